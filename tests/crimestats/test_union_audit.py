"""The attacker's audit of every public publication (crimestats/services/union_audit.py).

On the tiny London: raw releases written as the importers write them, and publications whose
figures are written by hand, so each attack is exactly the one described.
"""

import contextlib
import io
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from areas.models import Level
from crimestats.models import (
    Category,
    CurrentMonth,
    FigureBlock,
    Publication,
    PublishedFigure,
)
from crimestats.periods import add_months, month_range
from crimestats.services.union_audit import (
    BOROUGH_WARDS,
    audit_all_publications,
    public_publications,
)
from tests.crimestats.factories import write_test_release

BARKING, ABBEY, ALIBON = "E09000002", "E05000026", "E05000027"
APRIL = date(2024, 4, 1)
MARCH = date(2025, 3, 1)
YEAR = month_range(APRIL, MARCH)
SMALL, WITHHELD = "fewer than 5", "not shown"
# Abbey's burglaries in the financial year 2024/25 (3 in all) and Alibon's (30).
ABBEY_YEAR = [1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]
ALIBON_YEAR = [2, 3] * 6


@pytest.fixture
def areas(tiny_london):
    """The tiny London, with no publication of the session's real load counted as public."""
    Publication.objects.update(is_current=False, first_public_at=None)
    return tiny_london


@pytest.fixture
def burglary():
    return Category.objects.get(slug="burglary", parent=None)


def release(areas, category, level: str, counts: dict[str, list[int]], months, name: str):
    """An MPS release of some areas' counts, current for its months (as the importers write)."""
    by_id = {(areas[code].id, category.id): values for code, values in counts.items()}
    write_test_release(level=level, counts=by_id, months=months, name=name)


def publish(areas, category, figures, *, latest: date, current: bool = True) -> Publication:
    """A public publication of the current releases showing exactly the given figures:
    (code, period, end, value), the value a count, SMALL or WITHHELD."""
    coverage = [
        [source, force, level, month.isoformat(), release_id]
        for source, force, level, month, release_id in CurrentMonth.objects.order_by(
            "source", "force", "level", "month"
        ).values_list("source", "force", "level", "month", "release_id")
    ]
    if current:
        Publication.objects.update(is_current=False)
    publication = Publication.objects.create(
        latest_month=latest, coverage=coverage, first_public_at=timezone.now(), is_current=current
    )
    block = FigureBlock.objects.create()
    PublishedFigure.objects.bulk_create(
        PublishedFigure(
            block=block,
            area=areas[code],
            category=category,
            period=period,
            end_month=end,
            count=value if isinstance(value, int) else None,
            suppressed=not isinstance(value, int),
            withheld=value == WITHHELD,
        )
        for code, period, end, value in figures
    )
    publication.blocks.set([block])
    return publication


def barking_year(areas, category, *, borough_extra: int = 0):
    """Wards and borough for 2024/25; the borough file has ``borough_extra`` more in May."""
    release(areas, category, Level.WARD, {ABBEY: ABBEY_YEAR, ALIBON: ALIBON_YEAR}, YEAR, "wards")
    borough = [a + b for a, b in zip(ABBEY_YEAR, ALIBON_YEAR, strict=True)]
    borough[1] += borough_extra
    release(areas, category, Level.BOROUGH, {BARKING: borough}, YEAR, "borough")
    return borough


def borough_figures(borough: list[int]):
    months = [(BARKING, "month", month, count) for month, count in zip(YEAR, borough, strict=True)]
    return [*months, (BARKING, "fy", MARCH, sum(borough))]


def audit(publications=None):
    return audit_all_publications(
        boroughs=[BARKING], publications=publications, log=lambda _: None, workers=1
    )


def test_a_ward_hidden_alone_in_a_borough_its_wards_add_up_to_is_pinned(areas, burglary):
    borough = barking_year(areas, burglary)
    figures = [(ABBEY, "fy", MARCH, SMALL), (ALIBON, "fy", MARCH, 30), *borough_figures(borough)]
    publication = publish(areas, burglary, figures, latest=MARCH)
    outcome = audit()
    assert outcome.checked == 1 and not outcome.passed
    [failure] = outcome.failures
    assert (failure.area, failure.category, failure.period, failure.end) == (
        ABBEY,
        "burglary",
        "fy",
        MARCH,
    )
    assert failure.publication == publication.pk and not failure.withheld
    assert failure.feasible == (3, 3) and failure.pinned and outcome.pinned == 1
    assert any(f"{ALIBON} fy 2025-03 = 30" in name for name in failure.pinned_by)
    assert any(name.startswith(BOROUGH_WARDS) for name in failure.pinned_by)
    # Every month of the year was tested, and the wards add up in all twelve (and in the other
    # two categories' twelve months too, where both files have no crimes at all).
    assert outcome.relations[BOROUGH_WARDS] == {
        "tested": 36,
        "exact": 36,
        "parents with an inequality": 0,
    }


def test_hiding_a_second_ward_protects_the_first(areas, burglary):
    borough = barking_year(areas, burglary)
    figures = [
        (ABBEY, "fy", MARCH, SMALL),
        (ALIBON, "fy", MARCH, WITHHELD),
        *borough_figures(borough),
    ]
    publish(areas, burglary, figures, latest=MARCH)
    outcome = audit()
    assert outcome.passed and outcome.checked == 1 and outcome.pinned == 0


def test_a_month_where_the_wards_do_not_add_up_is_not_modelled(areas, burglary):
    # The borough file has 2 more crimes than the wards in May: that month is not an equality,
    # only "the wards never add up to more than the borough" (true in every month) is.
    borough = barking_year(areas, burglary, borough_extra=2)
    figures = [(ABBEY, "fy", MARCH, SMALL), (ALIBON, "fy", MARCH, 30), *borough_figures(borough)]
    publish(areas, burglary, figures, latest=MARCH)
    outcome = audit()
    assert outcome.passed and outcome.checked == 1
    assert outcome.relations[BOROUGH_WARDS] == {
        "tested": 36,
        "exact": 35,
        "parents with an inequality": 1,
    }


def test_a_rolled_back_publication_is_audited_with_the_one_after_it(areas, burglary):
    borough = barking_year(areas, burglary)
    # Published, then rolled back: it showed Alibon's year exactly (and nothing for Abbey).
    rolled_back = publish(
        areas, burglary, [(ALIBON, "fy", MARCH, 30), *borough_figures(borough)], latest=MARCH
    )
    rolled_back.is_current = False
    rolled_back.save(update_fields=["is_current"])
    # The next one hides Abbey and withholds Alibon: safe on its own, not beside the other.
    figures = [
        (ABBEY, "fy", MARCH, SMALL),
        (ALIBON, "fy", MARCH, WITHHELD),
        *borough_figures(borough),
    ]
    after = publish(areas, burglary, figures, latest=MARCH)
    assert public_publications() == [rolled_back, after]
    assert audit([after]).passed and audit([rolled_back]).passed
    outcome = audit()
    assert outcome.publications == [rolled_back.pk, after.pk]
    [failure] = outcome.failures
    assert (failure.area, failure.publication, failure.feasible) == (ABBEY, after.pk, (3, 3))
    assert any(name.startswith(f"P{rolled_back.pk} {ALIBON} fy") for name in failure.pinned_by)
    # The command audits every publication public up to the one named.
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 hidden figures"):
        call_command(
            "audit_disclosure", "--boroughs", BARKING, "--publication", after.pk, stdout=out
        )
    assert "cells failing: 1" in out.getvalue() and "pinned to one value: 1" in out.getvalue()
    out = io.StringIO()
    call_command(
        "audit_disclosure", "--boroughs", BARKING, "--publication", rolled_back.pk, stdout=out
    )
    assert f"Auditing publications {rolled_back.pk} (" in out.getvalue()
    assert "cells failing: 0" in out.getvalue() and "Audit passed" in out.getvalue()


# Abbey's burglaries from April 2024 (e - 12) to April 2025 (e): 5, then 4 in eleven months, 0.
E = date(2025, 4, 1)
THIRTEEN = month_range(add_months(E, -12), E)
ABBEY_13 = [5, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0]


def test_a_small_rolling_year_beside_last_publications_figures_is_pinned(areas, burglary):
    """The issue's example: R12(e-1) = 9 and M(e-12) = 5 shown last time, M(e) = 0 now, so the
    "fewer than 5" R12(e) = 9 - 5 + 0 is exactly 4."""
    release(areas, burglary, Level.WARD, {ABBEY: ABBEY_13[:-1]}, THIRTEEN[:-1], "wards-1")
    last = publish(
        areas,
        burglary,
        [(ABBEY, "r12", add_months(E, -1), 9), (ABBEY, "month", THIRTEEN[0], 5)],
        latest=add_months(E, -1),
    )
    release(areas, burglary, Level.WARD, {ABBEY: ABBEY_13}, THIRTEEN, "wards-2")
    this = publish(areas, burglary, [(ABBEY, "r12", E, SMALL), (ABBEY, "month", E, 0)], latest=E)
    assert audit([last]).passed and audit([this]).passed
    outcome = audit()
    [failure] = outcome.failures
    assert (failure.period, failure.end, failure.publication) == ("r12", E, this.pk)
    assert failure.feasible == (4, 4) and outcome.pinned == 1


@pytest.mark.parametrize("restated", [False, True])
def test_a_restated_month_is_a_new_unknown(areas, burglary, restated):
    """Last time R12(e-1) = 9; now M(e-12) is shown (5 as before, or restated as 6), M(e) = 0
    and R12(e) is "fewer than 5". Unrestated, R12(e) = 9 - 5 = 4; restated, last time's
    M(e-12) is not this time's, so nothing ties R12(e) down."""
    release(areas, burglary, Level.WARD, {ABBEY: ABBEY_13[:-1]}, THIRTEEN[:-1], "wards-1")
    publish(areas, burglary, [(ABBEY, "r12", add_months(E, -1), 9)], latest=add_months(E, -1))
    counts = [6 if restated else 5, *ABBEY_13[1:]]
    release(areas, burglary, Level.WARD, {ABBEY: counts}, THIRTEEN, "wards-2")
    figures = [
        (ABBEY, "month", THIRTEEN[0], counts[0]),
        (ABBEY, "r12", E, SMALL),
        (ABBEY, "month", E, 0),
    ]
    publish(areas, burglary, figures, latest=E)
    outcome = audit()
    assert outcome.checked == 1
    if restated:
        assert outcome.passed
    else:
        assert [f.feasible for f in outcome.failures] == [(4, 4)]


@pytest.mark.london
@pytest.mark.django_db
def test_the_command_audits_three_boroughs_of_the_real_load(london):
    out = io.StringIO()
    # The protection is being rewritten: failures are reported here, not yet asserted away.
    with contextlib.suppress(CommandError):
        call_command("audit_disclosure", "--boroughs", "E09000001,E09000017,E09000030", stdout=out)
    text = out.getvalue()
    checked = int(text.split("cells checked: ")[1].split()[0].replace(",", ""))
    assert checked > 100
    assert "cells failing: " in text and "pinned to one value: " in text
    relations = text.split("relations found and modelled:")[1]
    for kind in (BOROUGH_WARDS, "City of London = its LSOAs", "ward = its best-fit LSOAs"):
        assert f"  {kind}: " in relations
    # The City's police.uk borough figure is the sum of its LSOAs in every month.
    city = relations.split("City of London = its LSOAs: ")[1].split()
    assert city[0] == city[2] and int(city[0]) > 0


def test_a_figure_already_bound_before_it_was_published_is_told_apart(areas, burglary):
    """R12(e-1) = 9 and R12(e-12) = 7 were public, so the eleven months between add up to at
    least 2 and R12(e) (3) is at least 2 before it is ever published. Withheld and no
    narrower, it still fails (nothing is relaxed), but as already bound; labelled "fewer than
    5" it is narrowed to 2..4 by its own publication."""
    months = month_range(date(2023, 6, 1), date(2025, 5, 1))  # 24 months
    counts = [0] * 24
    counts[11], counts[15], counts[23] = 7, 2, 1  # R12 to month 11: 7; to 22: 9; to 23: 3
    e, before = months[-1], months[-2]
    release(areas, burglary, Level.WARD, {ABBEY: counts}, months, "abbey")
    r12 = {m: sum(counts[i - 11 : i + 1]) for i, m in enumerate(months) if i >= 11}
    assert (r12[before], r12[months[11]], r12[e]) == (9, 7, 3)
    earlier = [(ABBEY, "r12", m, v) for m, v in r12.items() if m != e]
    first = publish(areas, burglary, earlier, latest=before)
    publish(areas, burglary, [(ABBEY, "r12", e, WITHHELD)], latest=e)
    outcome = audit()
    [failure] = outcome.failures
    assert failure.bound_before and not failure.narrowed and outcome.bound_before == 1
    assert failure.before[0] >= 2 and failure.feasible[1] >= 5
    assert first.pk not in failure.publications
    Publication.objects.exclude(pk=first.pk).delete()
    publish(areas, burglary, [(ABBEY, "r12", e, SMALL)], latest=e)
    [failure] = audit().failures
    assert failure.bound_before and failure.narrowed
