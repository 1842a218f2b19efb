"""The preview of an MPS or police.uk file: what publishing it would change, against what is
current now."""

from collections import defaultdict
from datetime import date

from django.db import connection

from areas.models import Area, Level
from crimestats.models import Category, CurrentMonth
from crimestats.services.releases import fingerprint

LARGEST_SHOWN = 20
# A restated month whose London total moves by more than this share is a "large revision".
LARGE_REVISION = 0.05


def major_category_names() -> dict[int, str]:
    """Category id → the name of its major category."""
    names = {}
    categories = Category.objects.values_list("id", "name", "parent_id", "parent__name")
    for category_id, name, parent_id, parent_name in categories:
        names[category_id] = parent_name if parent_id else name
    return names


def unknown_categories(pairs: set[tuple[str, str]]) -> list[tuple[str, str]]:
    known = set(Category.objects.filter(parent__isnull=False).values_list("parent__name", "name"))
    return sorted(pairs - known)


BEFORE_SQL = """
    SELECT mc.area_id, COALESCE(p.name, c.name), mc.month, SUM(mc.count)
    FROM crimestats_monthlycount mc
    JOIN crimestats_currentmonth cm ON cm.release_id = mc.release_id AND cm.month = mc.month
    JOIN crimestats_category c ON c.id = mc.category_id
    LEFT JOIN crimestats_category p ON p.id = c.parent_id
    WHERE cm.source = %s AND cm.force = %s AND cm.level = %s AND mc.month = ANY(%s)
    GROUP BY 1, 2, 3
"""


def crime_preview(
    *,
    source: str,
    force: str,
    level: str,
    months: list[date],
    current: list[date],
    after_area: dict[tuple[int, str], int],
    after_month: dict[tuple[date, str], int],
) -> dict:
    """What publishing would change, against what is current now, for the months it takes over.

    Totals are per major category; "London" is the sum of the file's areas (the Met's own
    London total comes from the borough file).
    """
    covered = set(
        CurrentMonth.objects.filter(source=source, force=force, level=level).values_list(
            "month", flat=True
        )
    )
    before_area: dict[tuple[int, str], int] = defaultdict(int)
    before_month: dict[tuple[date, str], int] = defaultdict(int)
    with connection.cursor() as cursor:
        cursor.execute(BEFORE_SQL, [source, force, level, list(current)])
        for area_id, major, month, total in cursor:
            before_area[(area_id, major)] += int(total)
            before_month[(month, major)] += int(total)
    shown = {
        name: label or name.capitalize()
        for name, label in Category.objects.filter(shown=True, parent=None).values_list(
            "name", "label"
        )
    }
    areas = {
        area_id: (code, name, parent_code, parent_name)
        for area_id, code, name, parent_code, parent_name in Area.objects.filter(
            id__in={a for a, _ in before_area} | {a for a, _ in after_area}
        ).values_list("id", "code", "name", "parent__code", "parent__name")
    }

    def borough_of(area_id: int) -> tuple[str, str]:
        code, name, parent_code, parent_name = areas[area_id]
        if level == Level.BOROUGH:
            return code, name
        if level == Level.REGION:
            return "", ""
        return parent_code or "", parent_name or ""

    majors = sorted({m for _, m in before_area} | {m for _, m in after_area})
    london = [
        {
            "category": shown.get(major, major),
            "shown": major in shown,
            "before": sum(v for (_, m), v in before_area.items() if m == major),
            "after": sum(v for (_, m), v in after_area.items() if m == major),
        }
        for major in majors
    ]
    boroughs: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(
        lambda: defaultdict(lambda: [0, 0])
    )
    changes = []
    affected = set()
    for key in set(before_area) | set(after_area):
        area_id, major = key
        old, new = before_area.get(key, 0), after_area.get(key, 0)
        code, name = borough_of(area_id)
        if code and major in shown:
            cell = boroughs[(code, name)][shown[major]]
            cell[0] += old
            cell[1] += new
        if old != new:
            affected.add(area_id)
            changes.append((abs(new - old), area_id, major, old, new))
    changes.sort(key=lambda c: (-c[0], areas[c[1]][0], c[2]))
    month_rows = []
    revision_warnings = []
    for month in current:
        old = sum(v for (m, _), v in before_month.items() if m == month)
        new = sum(v for (m, _), v in after_month.items() if m == month)
        state = "added" if month not in covered else ("unchanged" if old == new else "restated")
        month_rows.append({"month": month.isoformat(), "before": old, "after": new, "state": state})
        if month in covered and old and abs(new - old) > LARGE_REVISION * old:
            revision_warnings.append(
                f"{month:%Y-%m}: a large revision of a published month: total {old:,} → "
                f"{new:,} ({(new - old) / old:+.1%})"
            )
    for row in month_rows:
        month = date.fromisoformat(row["month"])
        if row["state"] == "unchanged" and any(
            before_month.get((month, m), 0) != after_month.get((month, m), 0) for m in majors
        ):
            row["state"] = "restated"
    return {
        "source": source,
        "force": force,
        "level": level,
        "fingerprint": fingerprint(source=source, force=force, level=level),
        "months_in_file": [m.isoformat() for m in months],
        "months_not_current": [m.isoformat() for m in months if m not in set(current)],
        "months": month_rows,
        "months_added": [r["month"] for r in month_rows if r["state"] == "added"],
        "months_restated": [r["month"] for r in month_rows if r["state"] == "restated"],
        "areas_in_file": len({a for a, _ in after_area}),
        "areas_affected": len(affected),
        "london": london,
        "borough_categories": sorted(set(shown.values())),
        "boroughs": [
            {
                "code": code,
                "name": name,
                "cells": {c: values for c, values in sorted(cells.items())},
                "changed": any(v[0] != v[1] for v in cells.values()),
            }
            for (code, name), cells in sorted(boroughs.items(), key=lambda item: item[0][1])
        ],
        "largest": [
            {
                "code": areas[area_id][0],
                "name": areas[area_id][1],
                "category": shown.get(major, major),
                "before": old,
                "after": new,
                "change": new - old,
            }
            for _, area_id, major, old, new in changes[:LARGEST_SHOWN]
        ],
        "revision_warnings": revision_warnings,
    }
