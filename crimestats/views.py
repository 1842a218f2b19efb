"""Area pages: parse the request, call one selector, render. No rules live here."""

from functools import wraps
from urllib.parse import urlencode

from cachalot.api import cachalot_disabled
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.clickjacking import xframe_options_exempt

from areas.models import Level
from crimestats import selectors
from crimestats.bands import BANDS, NO_DATA_COLOUR, ratio_range_label
from crimestats.disclosure import Policy
from crimestats.periods import DEFAULT_PERIOD, PERIOD_CHOICES, Period, latest_end, period_label
from crimestats.services.protection import periods_for
from hardening.policies import embed_policy, geolocation_allowed

LONDON_CODE = "E12000007"
PAGE_LEVELS = {Level.BOROUGH, Level.WARD, Level.LSOA}
DEFAULT_CATEGORY_SLUG = "burglary"


class BadParameter(Exception):
    def __init__(self, name: str, value: str, choices: dict[str, str]):
        super().__init__(name)
        self.name, self.value, self.choices = name, value, choices


LEVEL_PLURALS = {Level.WARD: "wards", Level.LSOA: "neighbourhoods (LSOAs)"}


def period_choices(level: str) -> dict[Period, str]:
    """The periods an area's page offers: what its level publishes (wards and LSOAs only the
    12 months to a month and whole financial years)."""
    return {p: label for p, label in PERIOD_CHOICES.items() if p in periods_for(level)}


def unpublished_period_notice(period: Period, level: str) -> str:
    """Why a period the site has (a month, the financial year to date) is not shown here."""
    return (
        f"“{PERIOD_CHOICES[period]}” figures are not published for "
        f"{LEVEL_PLURALS.get(level, level + 's')}: in areas this small, single months or the "
        "financial year to date beside the 12-month totals would let a small number be worked "
        f"out. Showing the {PERIOD_CHOICES[DEFAULT_PERIOD].lower()} instead."
    )


# The query parameters an area page, its map and its embed read; any other (utm_source, fbclid
# and the like, added to shared links) changes nothing on them (caching/store.py keys on these).
QUERY_PARAMETERS = ("crime", "period", "map")


def kept_query(request: HttpRequest, names=QUERY_PARAMETERS) -> str:
    """The query string cut down to `names`, each with the value the views read (the last one
    given, as `QueryDict.get` does), in the order of `names`."""
    return urlencode([(k, request.GET[k]) for k in names if k in request.GET])


def _choose(request: HttpRequest, categories, level: str):
    """Category, period and map asked for in the query string; a bad one is a 400, not a 500.

    A period the site publishes, but not at this level (a ward's latest month, say, from an
    old link), shows the default view with a notice saying why.
    """
    by_slug = {c.slug: c for c in categories}
    default_crime = (
        DEFAULT_CATEGORY_SLUG if DEFAULT_CATEGORY_SLUG in by_slug else categories[0].slug
    )
    crime = request.GET.get("crime", default_crime)
    if crime not in by_slug:
        raise BadParameter("crime", crime, {c.slug: c.public_name for c in categories})
    period = request.GET.get("period", DEFAULT_PERIOD.value)
    choices = period_choices(level)
    notice = ""
    if period in PERIOD_CHOICES and Period(period) not in choices:
        notice = unpublished_period_notice(Period(period), level)
        period = DEFAULT_PERIOD.value
    if period not in {p.value for p in choices}:
        raise BadParameter("period", period, {p.value: label for p, label in choices.items()})
    keys = selectors.map_keys(level)
    map_key = request.GET.get("map", keys[0])
    if map_key not in keys:
        choices = {k: label for k, label, _ in selectors.MAP_CHOICES[level]}
        raise BadParameter("map", map_key, choices)
    return by_slug[crime], Period(period), map_key, default_crime, notice


def _query(*, crime: str, period: str, map_key: str, default_crime: str, default_map: str) -> str:
    """The query string of a view, leaving out defaults, so the default view has none."""
    params = {}
    if crime != default_crime:
        params["crime"] = crime
    if period != DEFAULT_PERIOD.value:
        params["period"] = period
    if map_key != default_map:
        params["map"] = map_key
    return f"?{urlencode(params)}" if params else ""


def direct_reads(view):
    """Run an area view without cachalot (unless AREA_VIEWS_CACHALOT, to measure it again).

    Measured on a ward page: its seven indexed reads take ~9 ms in PostgreSQL and ~23 ms in all;
    through cachalot a cold page took ~55 ms (writing each result to Redis) and a warm one
    ~21 ms, so caching them buys nothing and costs the cold target.
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        if settings.AREA_VIEWS_CACHALOT:
            return view(*args, **kwargs)
        with cachalot_disabled():
            return view(*args, **kwargs)

    return wrapped


def page_context(request: HttpRequest, area, *, with_trend: bool = True) -> dict | HttpResponse:
    """The context of an area page or embed, or the response for a bad or empty request."""
    publication = selectors.current_publication()
    categories = selectors.categories_for(publication) if publication else []
    if not categories:
        return render(request, "crimestats/no_data.html", status=503)
    try:
        category, period, map_key, default_crime, notice = _choose(request, categories, area.level)
    except BadParameter as error:
        context = {"error": error, "path": request.path}
        return render(request, "crimestats/bad_parameter.html", context, status=400)
    latest = selectors.area_latest(publication=publication, area=area)
    view = selectors.area_view(
        area=area,
        publication=publication,
        category=category,
        categories=categories,
        period=period,
        end=latest_end(period, latest.month),
        latest=latest.month,
        map_key=map_key,
        with_trend=with_trend,
    )
    view.notice = notice
    view.source_note = latest.note(view.period_label)
    default_map = selectors.map_keys(area.level)[0]
    base = area.get_absolute_url()

    def url(*, crime=category.slug, period_value=period.value, key=map_key) -> str:
        return base + _query(
            crime=crime,
            period=period_value,
            map_key=key,
            default_crime=default_crime,
            default_map=default_map,
        )

    policy = Policy.from_settings()
    view.map_options = [
        selectors.MapOption(key, label, url(key=key), key == map_key)
        for key, label, _ in selectors.MAP_CHOICES[area.level]
    ]
    return {
        "view": view,
        "publication": publication,
        "bands": [(band, ratio_range_label(band)) for band in BANDS],
        "no_data_colour": NO_DATA_COLOUR,
        "small_label": policy.label,
        "small_range": "{} to {}".format(*policy.small_range),
        "withheld_label": policy.withheld_label,
        "withheld_reason": policy.withheld_reason,
        "period_choices": period_choices(area.level),
        "canonical": url(),
        "crime_links": [(c, url(crime=c.slug), c == category) for c in categories],
        "period_links": [
            (
                _period_link_label(p, label, latest.month),
                url(period_value=p.value),
                p == period,
            )
            for p, label in period_choices(area.level).items()
        ],
        "feedback_page": url(),  # the view, never the tracking parameters a link carried
        "map_data_url": base + "map.geojson" + url()[len(base) :],
        "tile_url": settings.TILE_URL,
        "tile_attribution": settings.TILE_ATTRIBUTION,
    }


def _period_link_label(period: Period, label: str, latest) -> str:
    """A whole financial year is named by its years ("Financial year 2024/25")."""
    if period == Period.FINANCIAL_YEAR:
        return period_label(period, latest_end(period, latest)).capitalize()
    return label


def _render_area(request: HttpRequest, area) -> HttpResponse:
    context = page_context(request, area)
    if isinstance(context, HttpResponse):
        return context
    return render(request, "crimestats/area.html", context)


@geolocation_allowed  # the London page offers "use my location"
@direct_reads
def london(request: HttpRequest) -> HttpResponse:
    area = selectors.page_area(level=Level.REGION, code=LONDON_CODE)
    if area is None:
        return render(request, "crimestats/no_data.html", status=503)
    return _render_area(request, area)


@direct_reads
def area(request: HttpRequest, level: str, code: str, slug: str = "") -> HttpResponse:
    if level not in PAGE_LEVELS:
        raise Http404("No such kind of area")
    found = selectors.page_area(level=level, code=code)
    if found is None:
        raise Http404(f"No {level} with code {code}")
    if slug != found.slug or code != found.code:
        kept = kept_query(request)
        return redirect(found.get_absolute_url() + (f"?{kept}" if kept else ""), permanent=True)
    return _render_area(request, found)


@xframe_options_exempt
@embed_policy
@direct_reads
def embed_ward(request: HttpRequest, code: str) -> HttpResponse:
    """The only page other sites may frame: a ward's map and headline figures, no scripts."""
    found = selectors.page_area(level=Level.WARD, code=code)
    if found is None:
        raise Http404(f"No ward with code {code}")
    context = page_context(request, found, with_trend=False)
    if isinstance(context, HttpResponse):
        return context
    return render(request, "crimestats/embed.html", context)


def _map_geojson(request: HttpRequest, area) -> HttpResponse:
    """The map's areas as GeoJSON (display outlines, WGS84) for Leaflet; same figures as the SVG."""
    context = page_context(request, area, with_trend=False)
    if isinstance(context, HttpResponse):
        return context
    view = context["view"]
    shapes = selectors.display_geojson(codes=[a.code for a in view.map_areas])
    features = []
    for shape in view.map_areas:
        figure = shape.figure
        fill = "url" if figure.suppressed else figure.band.colour if figure.band else NO_DATA_COLOUR
        # "status" tells "fewer than 5" (small) from "not shown" (withheld); "note" says why.
        features.append(
            {
                "type": "Feature",
                "geometry": shapes.get(shape.code),
                "properties": {
                    "code": shape.code,
                    "name": shape.name,
                    "url": shape.url,
                    "shown_as": figure.count_label,
                    "status": figure.status,
                    "note": figure.note,
                    "rate": figure.rate_label,
                    "band": figure.band.words if figure.band else "",
                    "fill": fill,
                    "suppressed": figure.suppressed,
                    "focus": shape.is_focus,
                },
            }
        )
    collection = {"type": "FeatureCollection", "period": view.period_label, "features": features}
    if view.notice:
        collection["notice"] = view.notice
    if view.source_note:
        collection["source_note"] = view.source_note
    return JsonResponse(collection)


@direct_reads
def london_map_geojson(request: HttpRequest) -> HttpResponse:
    area = selectors.page_area(level=Level.REGION, code=LONDON_CODE)
    if area is None:
        raise Http404("London is not loaded")
    return _map_geojson(request, area)


@direct_reads
def map_geojson(request: HttpRequest, level: str, code: str, slug: str) -> HttpResponse:
    if level not in PAGE_LEVELS:
        raise Http404("No such kind of area")
    found = selectors.page_area(level=level, code=code)
    if found is None:
        raise Http404(f"No {level} with code {code}")
    return _map_geojson(request, found)
