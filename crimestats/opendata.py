"""Open data: every figure of the current publication as CSV, JSON and GeoJSON, streamed.

Values are exactly as the site shows them: a suppressed figure has no count, rate or band, and
its status says which kind it is ("small": shown as "fewer than 5", 1 to 4; "withheld": "not
shown", any size). Only the rows a publication has are served (wards and LSOAs have no single
months or financial year to date). Every publication that was ever public is served (people
saved and quoted them); a built but unpublished one is not public.
"""

import csv
import json
from collections.abc import Iterator

from django.contrib.gis.db.models.functions import AsGeoJSON
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from areas.models import Area, Level
from crimestats import disclosure, history, selectors
from crimestats.bands import BANDS
from crimestats.importers.common import looks_like_formula
from crimestats.models import Publication, PublishedFigure

KEY_COLUMNS = ("area_code", "area_name", "level", "category", "period", "end_month")  # one figure
COLUMNS = (
    *KEY_COLUMNS,
    "shown_as",
    "status",
    "count",
    "suppressed",
    "rate",
    "band",
)
DICTIONARY = [
    ("area_code", "Official GSS code: E12 London, E09 borough, E05 ward, E01 LSOA (2021)."),
    ("area_name", "Name of the area."),
    ("level", "region, borough, ward or lsoa."),
    ("category", "burglary, robbery or vehicle-offences (vehicle crime)."),
    (
        "period",
        "r12 (the 12 months ending end_month) and fy (a whole April–March financial year) for "
        "every level; for boroughs and London only, also month (one month) and fytd (April to "
        "end_month). Wards and LSOAs have no single months or financial year to date: beside "
        "the 12-month totals they would let a small number be worked out.",
    ),
    ("end_month", "Last month of the period, YYYY-MM."),
    (
        "shown_as",
        "The figure as the site shows it: a number, “{small}” or “{withheld}” (see status).",
    ),
    (
        "status",
        "exact: the count is shown. small: shown as “{small}”, the count is {low} to {high}. "
        "withheld: shown as “{withheld}”, {reason_tail}; it says nothing about its own size "
        "(it may be 0, small or large).",
    ),
    ("count", "Crimes recorded; empty when suppressed."),
    ("suppressed", "true when the count is not shown exactly: status small or withheld."),
    ("rate", "Per 1,000 households (burglary) or residents (others); empty when suppressed."),
    ("band", "Rate compared with London: " + "; ".join(b.key for b in BANDS) + "."),
]
CHUNK = 5000


def dictionary(policy: disclosure.Policy) -> list[tuple[str, str]]:
    """The data dictionary, with the policy's own words for hidden figures."""
    low, high = policy.small_range
    reason = policy.withheld_reason
    words = {
        "small": policy.label,
        "withheld": policy.withheld_label,
        "low": low,
        "high": high,
        "reason_tail": reason.removeprefix(policy.withheld_label).lstrip(", ") or reason,
    }
    return [(name, meaning.format(**words)) for name, meaning in DICTIONARY]


def _shown_as(status: disclosure.Status, count: int | None, policy: disclosure.Policy):
    if status == disclosure.Status.EXACT:
        return count
    return policy.withheld_label if status == disclosure.Status.WITHHELD else policy.label


def csv_cell(value):
    """Booleans as words; a text cell a spreadsheet would run as a formula (an area name
    starting with =, +, - or @) gets a leading apostrophe. Numbers are never touched."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return value


class Echo:
    def write(self, value: str) -> str:
        return value


def _publication(pk: int) -> Publication:
    publication = history.public_publication(pk)
    if publication is None:
        raise Http404("No publication with that number was ever public")
    return publication


def _rows(publication: Publication) -> Iterator[tuple]:
    policy = disclosure.Policy.from_settings()
    rows = (
        PublishedFigure.objects.of(publication)
        .order_by("area__level", "area__code", "category_id", "period", "end_month")
        .values_list(
            "area__code",
            "area__name",
            "area__level",
            "category__slug",
            "period",
            "end_month",
            "count",
            "suppressed",
            "rate",
            "band",
            "withheld",
        )
    )
    for row in rows.iterator(chunk_size=CHUNK):
        code, name, level, category, period, end, count, suppressed, rate, band, withheld = row
        status = disclosure.Status.of(suppressed=suppressed, withheld=withheld)
        yield (
            code,
            name,
            level,
            category,
            period,
            f"{end:%Y-%m}",
            _shown_as(status, count, policy),
            status.value,
            None if suppressed else count,
            suppressed,
            None if suppressed else rate,
            None if suppressed or band is None else BANDS[band].key,
        )


def index(request: HttpRequest) -> HttpResponse:
    publication = selectors.current_publication()
    context = {
        "publication": publication,
        "dictionary": dictionary(disclosure.Policy.from_settings()),
        "publications": list(history.public_publications()),
        "levels": [
            (Level.REGION, "London"),
            (Level.BOROUGH, "Borough"),
            (Level.WARD, "Ward"),
            (Level.LSOA, "LSOA"),
        ],
    }
    return render(request, "crimestats/open_data.html", context)


def figures_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    publication = _publication(pk)
    writer = csv.writer(Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(COLUMNS)
        for row in _rows(publication):
            yield writer.writerow([csv_cell(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    name = f"crimemap-figures-{publication.pk}-{publication.latest_month:%Y-%m}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def figures_json(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    publication = _publication(pk)

    def chunks() -> Iterator[str]:
        meta = {
            "publication": publication.pk,
            "latest_month": f"{publication.latest_month:%Y-%m}",
            "licence": "Open Government Licence v3.0",
            "columns": list(COLUMNS),
        }
        yield json.dumps(meta)[:-1] + ', "figures": ['
        first = True
        for row in _rows(publication):
            yield ("" if first else ",") + json.dumps(dict(zip(COLUMNS, row, strict=True)))
            first = False
        yield "]}"

    return StreamingHttpResponse(chunks(), content_type="application/json")


def figures_geojson(request: HttpRequest, pk: int, level: str) -> StreamingHttpResponse:
    """One feature per area of a level (display outline), with its latest-month figures."""
    publication = _publication(pk)
    if level not in Level.values:
        raise Http404("No such level")
    policy = disclosure.Policy.from_settings()
    figures: dict[int, dict[str, object]] = {}
    rows = (
        PublishedFigure.objects.of(publication)
        .filter(area__level=level, end_month=publication.latest_month)
        .values_list(
            "area_id", "category__slug", "period", "count", "suppressed", "rate", "band", "withheld"
        )
    )
    for area_id, category, period, count, suppressed, rate, band, withheld in rows.iterator(
        chunk_size=CHUNK
    ):
        status = disclosure.Status.of(suppressed=suppressed, withheld=withheld)
        key = f"{category}_{period}"
        figures.setdefault(area_id, {})[key] = {
            "shown_as": _shown_as(status, count, policy),
            "status": status.value,
            "count": None if suppressed else count,
            "suppressed": suppressed,
            "rate": None if suppressed else rate,
            "band": None if suppressed or band is None else BANDS[band].key,
        }
    areas = (
        Area.objects.filter(boundary_set__is_current=True, level=level)
        .annotate(shape=AsGeoJSON("display_geometry", precision=5))
        .order_by("code")
        .values_list("id", "code", "name", "shape")
    )

    def chunks() -> Iterator[str]:
        yield (
            '{"type":"FeatureCollection","name":"crimemap '
            + level
            + f' {publication.latest_month:%Y-%m}","features":['
        )
        for n, (pk_, code, name, shape) in enumerate(areas.iterator(chunk_size=500)):
            properties = {"code": code, "name": name, "figures": figures.get(pk_, {})}
            feature = f'{{"type":"Feature","geometry":{shape or "null"},"properties":'
            yield ("," if n else "") + feature + json.dumps(properties) + "}"
        yield "]}"

    response = StreamingHttpResponse(chunks(), content_type="application/geo+json")
    response["Content-Disposition"] = (
        f'attachment; filename="crimemap-{level}-{publication.latest_month:%Y-%m}.geojson"'
    )
    return response


CHANGE_COLUMNS = (
    *KEY_COLUMNS,
    "before_shown_as",
    "before_status",
    "after_shown_as",
    "after_status",
    "change",
)


def changes_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    """Every figure that differs from the publication public before this one: new, gone
    (status empty on that side) or different. A hidden figure is shown as the site shows it."""
    publication = _publication(pk)
    previous = history.previous_public(publication)
    policy = disclosure.Policy.from_settings()
    writer = csv.writer(Echo())

    def shown(status: str, count: int | None):
        return "" if not status else _shown_as(disclosure.Status(status), count, policy)

    def lines() -> Iterator[str]:
        yield writer.writerow(CHANGE_COLUMNS)
        for row in history.changed_figures(new=publication, old=previous):
            code, name, level, slug, period, end, old_status, old, new_status, new = row
            exact = disclosure.Status.EXACT.value
            change = new - old if old_status == new_status == exact else None
            cells = (
                code,
                name,
                level,
                slug,
                period,
                f"{end:%Y-%m}",
                shown(old_status, old),
                old_status,
                shown(new_status, new),
                new_status,
                change,
            )
            yield writer.writerow([csv_cell(v) for v in cells])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    since = f"-since-{previous.pk}" if previous else ""
    name = f"crimemap-changes-{publication.pk}{since}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
