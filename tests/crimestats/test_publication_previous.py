"""A publication is protected beside every earlier public one, with the relations between levels
(crimestats/services/protection.py, small_areas.py), and keeps what did not change.

On the tiny London: Barking and Dagenham has two wards, Abbey and Alibon; its borough figures
come from a separate MPS release that may or may not add up to them.
"""

from datetime import date

import pytest

from areas.models import Level
from crimestats.models import Category, Publication, PublishedFigure
from crimestats.periods import add_months
from crimestats.services import small_areas
from crimestats.services.publish import build_publication, switch_to
from tests.crimestats.factories import write_test_release

APRIL = date(2024, 4, 1)
BARKING = "E09000002"
ABBEY, ALIBON, BARNET_VALE = "E05000026", "E05000027", "E05000040"
QUIET = [0] * 11 + [3]  # Abbey's burglaries: 3 in the twelve months, all in the last


def months(n: int) -> list[date]:
    return [add_months(APRIL, i) for i in range(n)]


def publish_release(
    areas,
    abbey_burglary: list[int],
    *,
    alibon: int = 30,
    borough_extra: int = 0,
    barnet: int = 40,
    upload: str = "",
) -> Publication:
    """MPS ward, borough and London releases for len(abbey_burglary) months from April, then
    publish. The borough file adds up to its wards unless ``borough_extra`` is given; a new
    ``upload`` name gives the same counts a new checksum (a file uploaded again)."""
    span = months(len(abbey_burglary))
    majors = list(Category.objects.filter(shown=True, parent=None).order_by("slug"))
    wards, boroughs = {}, {}
    for category in majors:
        abbey = list(abbey_burglary) if category.slug == "burglary" else [20] * len(span)
        wards[(areas[ABBEY].id, category.id)] = abbey
        wards[(areas[ALIBON].id, category.id)] = [alibon] * len(span)
        wards[(areas[BARNET_VALE].id, category.id)] = [barnet] * len(span)
        boroughs[(areas[BARKING].id, category.id)] = [a + alibon + borough_extra for a in abbey]
        boroughs[(areas["E09000003"].id, category.id)] = [barnet] * len(span)
    london = {(areas["E12000007"].id, c.id): [900] * len(span) for c in majors}
    for level, counts in ((Level.WARD, wards), (Level.BOROUGH, boroughs), (Level.REGION, london)):
        state = f"{level}-{abbey_burglary}-{alibon}-{borough_extra}-{barnet}-{upload}"
        write_test_release(level=level, counts=counts, months=span, name=state)
    return build_publication(log=lambda _: None)


def _protected_pieces(monkeypatch) -> list:
    """The pieces handed to the LP protection from now on (the real function still runs)."""
    seen = []
    original = small_areas.protect_pieces

    def spy(pieces, **kwargs):
        pieces = list(pieces)
        seen.extend(pieces)
        return original(pieces, **kwargs)

    monkeypatch.setattr(small_areas, "protect_pieces", spy)
    return seen


def figure(publication: Publication, code: str, end: date, period="r12"):
    return PublishedFigure.objects.get(
        block__publications=publication,
        area__code=code,
        category__slug="burglary",
        period=period,
        end_month=end,
    )


def test_wards_that_add_up_to_their_borough_are_protected_together(tiny_london):
    publication = publish_release(tiny_london, QUIET)
    latest = months(12)[-1]
    abbey, alibon = figure(publication, ABBEY, latest), figure(publication, ALIBON, latest)
    assert abbey.suppressed and not abbey.withheld  # 3: "fewer than 5"
    # Barking's exact 12-month total minus Alibon's would give Abbey away: Alibon goes too.
    assert alibon.withheld and alibon.count is None
    found = publication.relations[BARKING]["burglary"]
    assert found["borough=wards"] == {"=": 12}
    assert publication.relations["London"]["borough=wards"]["="] >= 12


def test_wards_that_do_not_add_up_need_no_partner(tiny_london):
    publication = publish_release(tiny_london, QUIET, borough_extra=1)
    latest = months(12)[-1]
    assert figure(publication, ABBEY, latest).suppressed
    assert not figure(publication, ALIBON, latest).suppressed
    assert "=" not in publication.relations[BARKING]["burglary"]["borough=wards"]


def test_small_areas_publish_year_ending_totals_and_financial_years_only(tiny_london):
    publication = publish_release(tiny_london, [6] * 24)
    periods = set(
        PublishedFigure.objects.filter(block__publications=publication, area__level=Level.WARD)
        .values_list("period", flat=True)
        .distinct()
    )
    assert periods == {"r12", "fy"}
    borough = PublishedFigure.objects.filter(
        block__publications=publication, area__code=BARKING
    ).values_list("period", flat=True)
    assert set(borough) == {"month", "r12", "fytd", "fy"}


def test_every_earlier_public_publication_is_protected_beside(tiny_london, monkeypatch):
    first = publish_release(tiny_london, [6] * 12)
    second = publish_release(tiny_london, [6] * 12 + [7])
    switch_to(publication=first)  # a rollback: the second stays in people's downloads
    seen = _protected_pieces(monkeypatch)
    third = publish_release(tiny_london, [6] * 12 + [7, 2])
    assert third.previous == first
    names = {version.name for piece in seen for version in piece.versions}
    assert {first.pk, second.pk} <= names
    assert Publication.objects.get(pk=second.pk).first_public_at is not None


def test_an_unchanged_rebuild_copies_every_figure(tiny_london):
    first = publish_release(tiny_london, [6, 7, 8, 6, 9, 6, 7, 2, 5, 6, 7, 8, 3])
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
    assert again.relations == first.relations


@pytest.mark.parametrize("alibon", [3, 1])
def test_a_changed_ward_file_is_protected_again(tiny_london, alibon):
    first = publish_release(tiny_london, [6] * 13)
    second = publish_release(tiny_london, [6] * 13, alibon=alibon)
    figures = PublishedFigure.objects.filter(block__publications=second, area__code=ALIBON)
    assert not figures.filter(count__gte=1, count__lte=4).exists()
    assert second.disclosure_summary["ward"]["burglary"]["cells"] > 0
    kept = {block.level for block in set(second.blocks.all()) & set(first.blocks.all())}
    assert Level.WARD not in kept  # the wards and their borough are protected again


def _shown(publication: Publication, code: str) -> list:
    return sorted(
        PublishedFigure.objects.filter(
            block__publications=publication, area__code=code
        ).values_list("category_id", "period", "end_month", "count", "suppressed", "withheld")
    )


def test_files_uploaded_again_with_the_same_counts_are_not_protected_again(
    tiny_london, monkeypatch
):
    """New releases (new checksums) with the counts already public: every piece keeps the
    statuses it had, and nothing is handed to the LP protection."""
    first = publish_release(tiny_london, [6] * 11 + [2, 3])
    seen = _protected_pieces(monkeypatch)
    again = publish_release(tiny_london, [6] * 11 + [2, 3], upload="again")
    assert again != first and again.previous == first
    assert seen == []
    for code in (ABBEY, ALIBON, BARNET_VALE):
        assert _shown(again, code) == _shown(first, code)
    assert again.disclosure_summary["ward"] == first.disclosure_summary["ward"]
    assert again.relations == first.relations


def test_only_the_boroughs_whose_counts_changed_are_protected_again(tiny_london, monkeypatch):
    first = publish_release(tiny_london, [6] * 11 + [2, 3])
    seen = _protected_pieces(monkeypatch)
    second = publish_release(tiny_london, [6] * 11 + [2, 3], barnet=3)
    assert seen and {piece.borough for piece in seen} == {tiny_london["E09000003"].id}
    assert _shown(second, ABBEY) == _shown(first, ABBEY)
    assert _shown(second, BARNET_VALE) != _shown(first, BARNET_VALE)
