"""Disclosure control on the real publication: nothing small shown, nothing recoverable."""

import io

import pytest
from django.core.management import call_command
from django.db.models import Q

from areas.models import Level
from crimestats.models import PublishedFigure
from crimestats.selectors import current_publication

pytestmark = [pytest.mark.london, pytest.mark.django_db]

PROTECTED = [Level.WARD, Level.LSOA]


def test_no_published_count_is_small_at_protected_levels(london):
    figures = PublishedFigure.objects.filter(
        block__publications=current_publication(), area__level__in=PROTECTED
    )
    assert figures.filter(count__gte=1, count__lte=4).count() == 0
    assert figures.filter(suppressed=True).exclude(count=None).count() == 0
    assert figures.filter(suppressed=True).filter(~Q(rate=None) | ~Q(band=None)).count() == 0


def test_secondary_suppression_hides_some_figures_that_are_not_small(london):
    figures = PublishedFigure.objects.filter(
        block__publications=current_publication(), area__level__in=PROTECTED
    )
    assert figures.filter(withheld=True).exists()
    summary = current_publication().disclosure_summary
    assert set(summary) == {"ward", "lsoa", "parts"}
    burglary = summary["lsoa"]["burglary"]
    assert 0 < burglary["small_cells"] < burglary["cells"]


def test_small_areas_publish_year_ending_totals_and_financial_years_only(london):
    figures = PublishedFigure.objects.filter(block__publications=current_publication())
    for level in PROTECTED:
        periods = set(figures.filter(area__level=level).values_list("period", flat=True))
        assert periods == {"r12", "fy"}, level
    assert figures.filter(area__level=Level.BOROUGH, period="month").exists()


def test_the_default_view_is_almost_never_withheld_unless_small(london):
    """Issue 10's targets: withheld although not small, rolling 12 months to the latest month,
    at most 1% of wards and 5% of LSOAs in every category."""
    from crimestats.services.disclosure_report import default_view_shares

    for row in default_view_shares(current_publication()):
        limit = 0.01 if row.level == Level.WARD else 0.05
        assert row.figures > 0 and row.withheld_not_small_share <= limit, row


def test_the_relations_between_levels_are_stored_with_the_publication(london):
    relations = current_publication().relations
    # measured on the shared data: wards add up to their borough in most months before 2024
    assert relations["London"]["borough=wards"]["="] > 15_000
    assert relations["London"]["ward=best-fit lsoas"]["="] > 10_000
    assert relations["E09000001"]["burglary"]["borough=lsoas"] == {"=": 26}


def test_borough_and_london_figures_are_exact(london):
    figures = PublishedFigure.objects.filter(
        block__publications=current_publication(), area__level__in=[Level.BOROUGH, Level.REGION]
    )
    assert figures.exists() and not figures.filter(suppressed=True).exists()


def test_audit_passes_on_three_boroughs_including_the_city(london):
    out = io.StringIO()
    call_command("audit_disclosure", "--boroughs", "E09000001,E09000017,E09000030", stdout=out)
    text = out.getvalue()
    assert "cells failing: 0" in text and "Audit passed" in text
    checked = int(text.split("cells checked: ")[1].split()[0].replace(",", ""))
    assert checked > 100
