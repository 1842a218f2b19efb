"""Census denominators as part of a release state: what was current is recorded with each state,
and a rollback puts it back, so a census upload is undone like any other release.

The Denominator table holds one row per area of the current boundaries; a state keeps them as
``[level, area code, residents, households, source]`` rows, matched back by level and code.
"""

from areas.models import Area
from crimestats.models import Denominator

Rows = list[list]


def current_rows() -> Rows:
    """The current areas' denominators, in a stable order."""
    return [
        list(row)
        for row in Denominator.objects.filter(area__boundary_set__is_current=True)
        .order_by("area__level", "area__code")
        .values_list("area__level", "area__code", "residents", "households", "source")
    ]


def restore(rows: Rows) -> bool:
    """Make ``rows`` the current denominators (areas matched by level and code); False when
    they already are. A state recorded before denominators were kept (no rows) changes nothing."""
    if not rows or rows == current_rows():
        return False
    areas = {
        (level, code): pk
        for pk, level, code in Area.objects.filter(boundary_set__is_current=True).values_list(
            "pk", "level", "code"
        )
    }
    Denominator.objects.filter(area__boundary_set__is_current=True).delete()
    Denominator.objects.bulk_create(
        [
            Denominator(area_id=areas[(level, code)], residents=r, households=h, source=source)
            for level, code, r, h, source in rows
            if (level, code) in areas
        ],
        batch_size=5000,
    )
    return True
