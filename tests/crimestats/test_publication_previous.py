"""A publication is built beside the one it replaces (crimestats/services/previous.py).

On the tiny London: the release-to-release attack through the real builder (release 2 adds a
month of 2 crimes and may restate an earlier month; release 1's figures are still public), and
the reuse that makes publishing an unchanged or slightly changed release quick.
"""

from datetime import date

import pytest

from areas.models import Level
from crimestats.importers.writer import ReleaseData, write_release
from crimestats.models import Category, Publication, PublishedFigure
from crimestats.periods import add_months
from crimestats.services.disclosure_audit import audit_publication
from crimestats.services.publish import build_publication
from crimestats.sources import MET

APRIL = date(2024, 4, 1)
ABBEY, ALIBON, BARNET_VALE = "E05000026", "E05000027", "E05000040"
# Abbey's burglaries: release 1 covers April..October; release 2 adds November (2 crimes)
# and may restate September (6 in release 1, 4 in release 2).
RELEASE_1 = [6, 7, 8, 6, 9, 6, 7]


def months(n: int) -> list[date]:
    return [add_months(APRIL, i) for i in range(n)]


def publish_release(areas, abbey_burglary: list[int], *, alibon: int = 30) -> Publication:
    """MPS ward and London releases for len(abbey_burglary) months from April, then publish."""
    span = months(len(abbey_burglary))
    majors = list(Category.objects.filter(shown=True, parent=None).order_by("slug"))
    ward_counts = {}
    for category in majors:
        ward_counts[(areas[ABBEY].id, category.id)] = (
            list(abbey_burglary) if category.slug == "burglary" else [20] * len(span)
        )
        ward_counts[(areas[ALIBON].id, category.id)] = [alibon] * len(span)
        ward_counts[(areas[BARNET_VALE].id, category.id)] = [40] * len(span)
    london = {(areas["E12000007"].id, c.id): [900] * len(span) for c in majors}
    for level, counts in ((Level.WARD, ward_counts), (Level.REGION, london)):
        data = ReleaseData(
            source="mps",
            force=MET,
            level=level,
            layout="test",
            months=span,
            counts=counts,
            current_months=span,
        )
        checksum = f"{level}-{abbey_burglary}-{alibon}"
        write_release(data=data, file_name=f"{level}.csv", checksum=checksum)
    return build_publication(log=lambda _: None)


def abbey_burglary(publication: Publication, period: str, end: date) -> PublishedFigure:
    return PublishedFigure.objects.get(
        block__publications=publication,
        area__code=ABBEY,
        category__slug="burglary",
        period=period,
        end_month=end,
    )


@pytest.mark.parametrize("restated", [False, True])
def test_release_to_release_difference_is_closed_by_the_builder(tiny_london, restated):
    first = publish_release(tiny_london, RELEASE_1)
    release_2 = [6, 7, 8, 6, 9, 4 if restated else 6, 7, 2]
    second = publish_release(tiny_london, release_2)
    assert second.previous == first
    small = (date(2024, 9, 1) if restated else date(2024, 11, 1), 4 if restated else 2)
    assert abbey_burglary(second, "month", small[0]).suppressed
    # What both publications show together gives nothing away ...
    beside = audit_publication(publication=second, log=lambda _: None)
    assert beside.passed and beside.checked > 0
    # ... while release 2 protected on its own would: rebuilt with release 1 out of view,
    # the audit beside release 1 finds the hidden month.
    Publication.objects.update(is_current=False)
    alone = build_publication(log=lambda _: None)
    assert alone.previous is None
    assert audit_publication(publication=alone, previous=None, log=lambda _: None).passed
    attacked = audit_publication(publication=alone, previous=first, log=lambda _: None)
    assert not attacked.passed
    assert any(f.area == ABBEY and f.category == "burglary" for f in attacked.failures)


def test_an_unchanged_rebuild_copies_every_figure(tiny_london):
    first = publish_release(tiny_london, [6, 7, 8, 6, 9, 6, 7, 2])
    again = build_publication(log=lambda _: None)
    assert again.previous == first and again.context == first.context
    columns = ("area_id", "category_id", "period", "end_month", "count", "suppressed", "withheld")
    columns += ("rate", "band")

    def rows(publication):
        return sorted(
            PublishedFigure.objects.filter(block__publications=publication).values_list(*columns)
        )

    assert rows(again) == rows(first) and again.figure_count == first.figure_count > 0
    assert set(again.blocks.all()) == set(first.blocks.all())  # nothing written again
    assert again.disclosure_summary == first.disclosure_summary


def test_a_changed_series_is_rebuilt_and_the_summary_follows(tiny_london):
    first = publish_release(tiny_london, [6, 7, 8, 6, 9, 6, 7, 2])
    first_blocks = list(first.blocks.all())
    lines: list[str] = []
    # Alibon's counts change (30 -> 3 a month, all small); nothing else does.
    second = publish_release(tiny_london, [6, 7, 8, 6, 9, 6, 7, 2], alibon=3)
    alibon = PublishedFigure.objects.filter(block__publications=second, area__code=ALIBON)
    assert alibon.filter(period="month", end_month=months(8)[-1], suppressed=True).exists()
    assert not alibon.filter(count__gte=1, count__lte=4).exists()
    assert sum(c["small_cells"] for c in second.disclosure_summary["ward"].values()) > 0
    kept = {block.level for block in set(second.blocks.all()) & set(first_blocks)}
    assert kept == {Level.REGION}  # London's figures did not change; the wards' block did
    again = build_publication(log=lines.append)
    assert "ward: 0 figures built" in "\n".join(lines)
    assert again.disclosure_summary == second.disclosure_summary
    # The summary kept by taking out and adding in equals one computed from scratch.
    Publication.objects.update(is_current=False)
    scratch = build_publication(log=lambda _: None)
    assert scratch.previous is None
    assert scratch.disclosure_summary == second.disclosure_summary
