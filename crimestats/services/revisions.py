"""Revisions: what the releases page and the feeds say about each publish and rollback.

Recorded in the same transaction as the switch, so the public history can never name a
publication that did not go public, nor miss one that did.
"""

from collections import defaultdict

from django.db import connection, transaction

from areas.models import Area, Level
from crimestats.models import Publication, Revision, Upload
from crimestats.selectors import shown_categories

# What the public page keeps of a crime file's preview (the rest is for the admin).
KEPT = (
    "file",
    "detected",
    "source",
    "force",
    "level",
    "months_added",
    "months_restated",
    "months",
    "areas_affected",
    "london",
    "borough_categories",
)


def file_previews(upload: Upload) -> list[dict]:
    """The previews an upload was checked against: one per file of a bundle."""
    preview = upload.preview or {}
    return preview["files"] if preview.get("bundle") else [preview] if preview else []


def restated_months(upload: Upload) -> list[str]:
    """Months already public whose counts this upload changes (the preview reports a month as
    restated only where a count changed)."""
    return sorted({m for p in file_previews(upload) for m in p.get("months_restated", [])})


def note_required(upload: Upload) -> bool:
    return bool(restated_months(upload))


def _summary(preview: dict, upload: Upload) -> dict:
    """One file's part of a revision: months, London totals, and the boroughs that changed."""
    kept = {name: preview[name] for name in KEPT if name in preview}
    kept.setdefault("file", upload.file_name)
    kept["boroughs"] = [b for b in preview.get("boroughs", []) if b.get("changed")]
    return kept


def changes_of(upload: Upload | None) -> list[dict]:
    """What a publish changed, file by file, as its preview said; boundary and census uploads
    say what kind of change they were."""
    if upload is None:
        return []
    preview = upload.preview or {}
    if upload.kind == Upload.Kind.CENSUS:
        measures = [
            {k: m.get(k) for k in ("measure", "before", "after", "lsoas_changed", "kept")}
            for m in preview.get("measures", [])
        ]
        return [{"file": upload.file_name, "kind": "census", "measures": measures}]
    if upload.kind == Upload.Kind.BOUNDARIES:
        return [
            {
                "file": upload.file_name,
                "kind": "boundaries",
                "level": preview.get("level", ""),
                "vintage": preview.get("vintage", ""),
                "counts": preview.get("counts", {}),
            }
        ]
    return [_summary(p, upload) for p in file_previews(upload) if p.get("months") is not None]


RESTATED_SQL = """
    SELECT mc.release_id, mc.month,
           CASE WHEN a.level = 'borough' THEN a.code
                WHEN a.level IN ('ward', 'lsoa') THEN b.code ELSE '' END,
           COALESCE(p.id, c.id), SUM(mc.count)
    FROM unnest(%s::int[], %s::date[]) AS pair(release_id, month)
    JOIN crimestats_monthlycount mc ON mc.release_id = pair.release_id AND mc.month = pair.month
    JOIN areas_area a ON a.id = mc.area_id
    LEFT JOIN areas_area b ON b.id = a.parent_id
    JOIN crimestats_category c ON c.id = mc.category_id
    LEFT JOIN crimestats_category p ON p.id = c.parent_id
    WHERE COALESCE(p.shown, c.shown)
    GROUP BY 1, 2, 3, 4
"""


def _totals(pairs: list[tuple[int, str]]) -> dict[tuple[int, str, str, int], int]:
    """(release, month, borough code, major category) → crimes, for (release, month) pairs."""
    if not pairs:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(RESTATED_SQL, [[r for r, _ in pairs], [m for _, m in pairs]])
        return {(r, m.isoformat(), b, c): int(n) for r, m, b, c, n in cursor}


def restatements(*, old: Publication | None, new: Publication) -> list[dict]:
    """Months public in both publications whose counts of a shown crime type changed, per
    source and level: London's and each changed borough's totals before and after."""
    if old is None:
        return []
    before = {(s, f, lvl, m): r for s, f, lvl, m, r in old.coverage}
    after = {(s, f, lvl, m): r for s, f, lvl, m, r in new.coverage}
    swapped = {k: (before[k], after[k]) for k in before.keys() & after.keys()}
    swapped = {k: v for k, v in swapped.items() if v[0] != v[1]}
    totals = _totals(sorted({(r, k[3]) for k, pair in swapped.items() for r in pair}))
    labels = {c.pk: c.public_name for c in shown_categories(new)}
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for source, force, level, month in sorted(swapped):
        groups[(source, force, level)].append(month)
    out = []
    for (source, force, level), months in groups.items():
        cells: dict[tuple[str, str, int], list[int]] = defaultdict(lambda: [0, 0])
        restated = []
        for month in months:
            old_release, new_release = swapped[(source, force, level, month)]
            keys = {k[2:] for k in totals if k[1] == month and k[0] in (old_release, new_release)}
            changed = False
            for borough, category in keys:
                was = totals.get((old_release, month, borough, category), 0)
                now = totals.get((new_release, month, borough, category), 0)
                cells[(month, borough, category)] = [was, now]
                changed |= was != now
            if changed:
                restated.append(month)
        if not restated:
            continue
        london: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        boroughs: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        for (month, borough, category), (was, now) in cells.items():
            if month not in restated:
                continue
            london[category][0] += was
            london[category][1] += now
            if borough:
                boroughs[borough][category][0] += was
                boroughs[borough][category][1] += now
        names = dict(
            Area.objects.filter(
                level=Level.BOROUGH, code__in=boroughs, boundary_set__is_current=True
            ).values_list("code", "name")
        )
        out.append(
            {
                "source": source,
                "force": force,
                "level": level,
                "months": restated,
                "categories": [labels[c] for c in sorted(labels)],
                "london": [
                    {"category": labels[c], "before": london[c][0], "after": london[c][1]}
                    for c in sorted(labels)
                ],
                "boroughs": [
                    {
                        "code": code,
                        "name": names.get(code, code),
                        "cells": [boroughs[code][c] for c in sorted(labels)],
                    }
                    for code in sorted(boroughs, key=lambda c: names.get(c, c))
                    if any(v[0] != v[1] for v in boroughs[code].values())
                ],
            }
        )
    return out


def record_revision(
    *,
    kind: str,
    publication: Publication | None,
    replaced: Publication | None,
    upload: Upload | None = None,
    note: str = "",
    user=None,
) -> Revision | None:
    """Record that ``publication`` replaced ``replaced`` on the site; nothing when the public
    figures did not change (the same publication stays current)."""
    if publication is None or (replaced is not None and replaced.pk == publication.pk):
        return None
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("record_revision must run in the transaction that switches")
    return Revision.objects.create(
        kind=kind,
        publication=publication,
        replaced=replaced,
        upload=upload,
        note=note.strip(),
        changes={
            "files": changes_of(upload),
            "restated": restatements(old=replaced, new=publication),
        },
        created_by=user if user is not None and user.is_authenticated else None,
    )
