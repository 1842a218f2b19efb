"""Area pages: parse the request, call one selector, render. No rules live here."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from areas.models import Level
from areas.selectors import area_by_code
from crimestats import selectors
from crimestats.bands import BANDS, NO_DATA_COLOUR, ratio_range_label
from crimestats.disclosure import Policy
from crimestats.periods import DEFAULT_PERIOD, PERIOD_CHOICES, Period

LONDON_CODE = "E12000007"
PAGE_LEVELS = {Level.BOROUGH, Level.WARD, Level.LSOA}
DEFAULT_CATEGORY_SLUG = "burglary"


class BadParameter(Exception):
    def __init__(self, name: str, value: str, choices: dict[str, str]):
        super().__init__(name)
        self.name, self.value, self.choices = name, value, choices


def _choose(request: HttpRequest, categories):
    """The category and period asked for in the query string; a bad one is a 400, not a 500."""
    by_slug = {c.slug: c for c in categories}
    crime = request.GET.get("crime", DEFAULT_CATEGORY_SLUG)
    if crime not in by_slug:
        raise BadParameter("crime", crime, {c.slug: c.public_name for c in categories})
    period = request.GET.get("period", DEFAULT_PERIOD.value)
    if period not in {p.value for p in Period}:
        choices = {p.value: label for p, label in PERIOD_CHOICES.items()}
        raise BadParameter("period", period, choices)
    return by_slug[crime], Period(period)


def _render_area(request: HttpRequest, area) -> HttpResponse:
    publication = selectors.current_publication()
    categories = selectors.shown_categories()
    if publication is None or not categories:
        return render(request, "crimestats/no_data.html", status=503)
    try:
        category, period = _choose(request, categories)
    except BadParameter as error:
        context = {"error": error, "path": request.path}
        return render(request, "crimestats/bad_parameter.html", context, status=400)
    view = selectors.area_view(
        area=area,
        publication=publication,
        category=category,
        period=period,
        end=publication.latest_month,
    )
    view.categories = categories
    context = {
        "view": view,
        "publication": publication,
        "bands": [(band, ratio_range_label(band)) for band in BANDS],
        "no_data_colour": NO_DATA_COLOUR,
        "suppressed_label": Policy.from_settings().label,
        "period_choices": PERIOD_CHOICES,
    }
    return render(request, "crimestats/area.html", context)


def london(request: HttpRequest) -> HttpResponse:
    area = area_by_code(level=Level.REGION, code=LONDON_CODE)
    if area is None:
        return render(request, "crimestats/no_data.html", status=503)
    return _render_area(request, area)


def area(request: HttpRequest, level: str, code: str, slug: str = "") -> HttpResponse:
    if level not in PAGE_LEVELS:
        raise Http404("No such kind of area")
    found = area_by_code(level=level, code=code)
    if found is None:
        raise Http404(f"No {level} with code {code}")
    if slug != found.slug or code != found.code:
        query = f"?{request.GET.urlencode()}" if request.GET else ""
        return redirect(found.get_absolute_url() + query, permanent=True)
    return _render_area(request, found)
