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
    assert set(summary) == {"ward", "lsoa"}
    burglary = summary["lsoa"]["burglary"]
    assert 0 < burglary["small_cells"] < burglary["cells"]


def test_lsoas_have_no_monthly_figures(london):
    figures = PublishedFigure.objects.filter(block__publications=current_publication())
    assert not figures.filter(area__level=Level.LSOA, period="month").exists()
    assert figures.filter(area__level=Level.WARD, period="month").exists()


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
