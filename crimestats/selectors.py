"""Reads for the public pages: published figures only, never raw counts.

An area page is read in a handful of queries: the area with its parents, the publication, the
shown categories, the map's shapes, every figure the page needs (one query), the Safer
Neighbourhoods team and the staff-edited text.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date

from cachalot.api import cachalot_disabled
from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Q, QuerySet

from areas.models import Area, Level, SaferNeighbourhoodTeam
from areas.selectors import DisplayShape, children, current_areas, display_shapes
from crimestats import disclosure
from crimestats.bands import Band, band_by_index
from crimestats.comparisons import Comparison, Side, compare
from crimestats.content_models import PageContent
from crimestats.models import Category, Publication, PublishedFigure
from crimestats.periods import Period, add_months, complete_ends, month_label, period_label
from crimestats.services.counts import covered_months
from crimestats.services.protection import periods_for
from crimestats.sources import MPS_SOURCE, source_for

TREND_MONTHS = 24
NO_DATA_STATUS = "no-data"


@dataclass(frozen=True)
class Figure:
    """A published figure with the words and numbers a page shows for it."""

    count: int | None
    suppressed: bool
    rate: float | None
    band: Band | None
    available: bool = True
    exposure: float | None = None  # households or residents, for comparisons
    withheld: bool = False  # hidden by secondary suppression: "not shown", not "fewer than 5"

    @property
    def status(self) -> str:
        """exact, small ("fewer than 5": 1 to 4), withheld ("not shown": any size) or no-data.

        Pages put it on every figure's element, so what a label claims can be checked."""
        if not self.available:
            return NO_DATA_STATUS
        return disclosure.Status.of(suppressed=self.suppressed, withheld=self.withheld).value

    @property
    def count_label(self) -> str:
        if not self.available:
            return "no data"
        if self.suppressed:
            policy = disclosure.Policy.from_settings()
            return policy.withheld_label if self.withheld else policy.label
        return f"{self.count:,}"

    @property
    def note(self) -> str:
        """Why a hidden figure is not shown; a withheld one says nothing about its own size."""
        if not self.suppressed:
            return ""
        policy = disclosure.Policy.from_settings()
        if self.withheld:
            return policy.withheld_reason
        low, high = policy.small_range
        return f"{low} to {high}: small numbers are not shown exactly, to protect victims"

    @property
    def rate_label(self) -> str:
        # Never a rate for a hidden count, whatever the row says.
        if self.suppressed or self.rate is None:
            return ""
        return f"{self.rate:,.1f}"

    @property
    def fill(self) -> str:
        """The key of the map fill: a band, a pattern for each kind of hidden figure, or no data."""
        if self.suppressed:
            return self.status
        return self.band.key if self.band else NO_DATA_STATUS


NO_DATA = Figure(count=None, suppressed=False, rate=None, band=None, available=False)


@dataclass
class MapArea:
    code: str
    name: str
    level: str
    url: str
    svg_path: str
    figure: Figure
    is_focus: bool = False


@dataclass(frozen=True)
class MapOption:
    key: str
    label: str
    url: str
    current: bool


@dataclass
class Headline:
    """One category's figure for the page's period, with last year's and the comparisons."""

    category: Category
    figure: Figure
    last_year: Figure
    last_year_label: str
    comparisons: list[Comparison]
    parents: list[tuple[Area, Figure]]


@dataclass(frozen=True)
class TrendPoint:
    end: date
    label: str
    figure: Figure
    slot: int = 0  # place on the chart's time axis, 0 = the earliest month shown


@dataclass
class Trend:
    period: Period
    title: str
    points: list[TrendPoint]
    note: str = ""

    @property
    def max_count(self) -> int:
        return max([p.figure.count or 0 for p in self.points] + [1])

    @property
    def statuses(self) -> set[str]:
        return {p.figure.status for p in self.points}

    @property
    def has_gaps(self) -> bool:
        return len(self.points) < TREND_MONTHS


@dataclass
class AreaView:
    """Everything an area page shows for one category and period."""

    area: Area
    ancestors: list[Area]
    category: Category
    categories: list[Category]
    period: Period
    end: date
    period_label: str
    figure: Figure
    ancestor_figures: list[tuple[Area, Figure]]
    map_areas: list[MapArea] = field(default_factory=list)
    view_box: str = ""
    map_title: str = ""
    map_key: str = ""
    map_options: list[MapOption] = field(default_factory=list)
    headlines: list[Headline] = field(default_factory=list)
    trend: Trend | None = None
    long_run: list[TrendPoint] = field(default_factory=list)
    team: SaferNeighbourhoodTeam | None = None
    content: dict[str, list[PageContent]] = field(default_factory=dict)
    notice: str = ""  # e.g. why the period asked for is not the one shown
    source_note: str = ""  # e.g. why this area's figures end before London's

    def _hatch_scale(self, width_px: int, height_px: int) -> str:
        """How much to scale the 8-unit hatching so it is about 8 pixels apart on a map drawn
        in metres and shown about ``width_px`` by ``height_px`` (not a grey blur)."""
        _, _, width, height = (float(v) for v in self.view_box.split())
        return f"{max(width / width_px, height / height_px, 0.01):.2f}"

    @property
    def hatch_scale(self) -> str:
        return self._hatch_scale(900, 540)

    @property
    def embed_hatch_scale(self) -> str:
        return self._hatch_scale(380, 256)

    @property
    def map_statuses(self) -> set[str]:
        """The kinds of figure on the map, so its key lists each kind that appears."""
        return {shape.figure.status for shape in self.map_areas}

    @property
    def long_run_statuses(self) -> set[str]:
        return {point.figure.status for point in self.long_run}

    @property
    def statuses(self) -> set[str]:
        """Every kind of figure the page shows: headlines (with a year earlier), map, trend."""
        shown = {f.status for h in self.headlines for f in (h.figure, h.last_year)}
        trend = self.trend.statuses if self.trend else set()
        return shown | self.map_statuses | trend | self.long_run_statuses

    @property
    def headline(self) -> Headline | None:
        return next((h for h in self.headlines if h.category.pk == self.category.pk), None)

    @property
    def advice(self) -> list[PageContent]:
        shown = {c.pk for c in self.categories}
        return [a for a in self.content.get("advice", []) if a.category_id in shown]


HEAVY = ("geometry", "display_geometry", "svg_path")


def page_area(*, level: str, code: str) -> Area | None:
    """The area of a page with its parents and best-fit ward, without their geometries.

    Full-resolution outlines (London's is megabytes) are never needed to render a page.
    """
    related = ["", "parent__", "parent__parent__", "best_fit_ward__"]
    return (
        current_areas()
        .filter(level=level, code=code.strip().upper())
        .select_related("parent__parent", "best_fit_ward")
        .defer(*(prefix + column for prefix in related for column in HEAVY))
        .first()
    )


_pinned: ContextVar[Publication | None] = ContextVar("pinned_publication", default=None)


@contextmanager
def pinned_publication(publication: Publication | None) -> Iterator[None]:
    """Render with this publication as the current one.

    The page cache pins the publication its key names, so the page and its key always agree
    (no second read after the render) and the view does not read it again.
    """
    token = _pinned.set(publication)
    try:
        yield
    finally:
        _pinned.reset(token)


def read_current_publication() -> Publication | None:
    """The publication current in the database now, with its block ids (one query for both).

    The one lookup of the current publication: pages (through the page cache's pointer),
    publishing, previews and rollbacks. Never from cachalot: what is committed, not what was
    cached.
    """
    with cachalot_disabled():
        return (
            Publication.objects.filter(is_current=True)
            .annotate(block_ids=ArrayAgg("blocks__id", default=[]))
            .first()
        )


def current_publication() -> Publication | None:
    """The publication this request shows: the pinned one, else the database's current one."""
    return _pinned.get() or read_current_publication()


def wanted_categories() -> list[Category]:
    """The categories staff flagged to show: what the next publication will show.

    Only the publication builder reads the flags; pages read a publication's own categories, so
    a flag flipped in the admin reaches the public through a publish, never live.
    """
    return list(Category.objects.filter(shown=True, parent=None).order_by("id"))


def shown_categories(publication: Publication | None = None) -> list[Category]:
    """The categories a publication shows (by default the current one's), as it was built."""
    if publication is None:
        publication = read_current_publication()
        if publication is None:
            return []
    categories = list(publication.categories.filter(parent=None).order_by("id"))
    if categories:
        return categories
    # A publication made by hand (tests) records none: the categories its figures hold.
    held = PublishedFigure.objects.of(publication).values("category_id")
    return list(Category.objects.filter(pk__in=held, parent=None).order_by("id"))


_categories: tuple[int, list[Category]] = (0, [])


def categories_for(publication: Publication) -> list[Category]:
    """The shown categories, read once per publication per process, for the pages.

    Pages are cached whole per publication, so a page never followed a category edit made
    after its publication anyway; the next publication reads them again.
    """
    global _categories
    known_for, known = _categories
    if known_for == publication.pk:
        return known
    categories = shown_categories(publication)
    _categories = (publication.pk, categories)
    return categories


def _ancestors(area: Area) -> list[Area]:
    chain, current = [], area.parent
    while current is not None:
        chain.append(current)
        current = current.parent
    return chain


# What each level's map can show: (key, label, level drawn). The first is the default.
MAP_CHOICES: dict[str, list[tuple[str, str, str]]] = {
    Level.REGION: [("boroughs", "Boroughs", Level.BOROUGH), ("wards", "Wards", Level.WARD)],
    Level.BOROUGH: [
        ("wards", "Wards", Level.WARD),
        ("lsoas", "Neighbourhoods (LSOAs)", Level.LSOA),
    ],
    Level.WARD: [("neighbours", "Ward and neighbours", Level.WARD)],
    Level.LSOA: [("neighbours", "Neighbourhood and neighbours", Level.LSOA)],
}


def map_keys(level: str) -> list[str]:
    return [key for key, _, _ in MAP_CHOICES[level]]


def _map_members(area: Area, key: str) -> QuerySet[Area]:
    """The areas drawn on an area's map: children for London and boroughs, else neighbours."""
    drawn = next(level for k, _, level in MAP_CHOICES[area.level] if k == key)
    if area.level == Level.REGION:
        return current_areas().filter(level=drawn)
    if area.level == Level.BOROUGH:
        return children(area=area, level=drawn)
    # A UNION, not "pk = x OR pk IN (...)": PostgreSQL answers the OR with two sequential scans
    # of every area (~20 ms), the UNION from the indexes (<1 ms).
    touching = Area.neighbours.through.objects.filter(from_area_id=area.pk).values("to_area_id")
    itself = Area.objects.filter(pk=area.pk).values("id").order_by()
    return current_areas().filter(pk__in=touching.union(itself))


def _view_box(shapes: list[DisplayShape]) -> str:
    if not shapes:
        return "0 0 1 1"
    xmin = min(s.extent[0] for s in shapes)
    ymin = min(s.extent[1] for s in shapes)
    xmax = max(s.extent[2] for s in shapes)
    ymax = max(s.extent[3] for s in shapes)
    pad = max(xmax - xmin, ymax - ymin) * 0.02
    width, height = xmax - xmin + 2 * pad, ymax - ymin + 2 * pad
    return f"{xmin - pad:.0f} {ymin - pad:.0f} {width:.0f} {height:.0f}"


Key = tuple[int, int, str, date]  # area id, category id, period, end month


def _figure_rows(*, publication: Publication, condition: Q) -> dict[Key, Figure]:
    rows = (
        PublishedFigure.objects.of(publication)
        .filter(condition)
        .values_list(
            "area_id",
            "category_id",
            "period",
            "end_month",
            "count",
            "suppressed",
            "rate",
            "band",
            "area__level",
            "category__denominator",
            "area__denominator__households",
            "area__denominator__residents",
            "withheld",
        )
    )
    figures = {}
    for (
        area_id,
        cat,
        period,
        end,
        count,
        suppressed,
        rate,
        band,
        level,
        per,
        hh,
        res,
        withheld,
    ) in rows:
        exposure = hh if per == Category.Denominator.HOUSEHOLDS else res
        if level == Level.REGION and count and rate:
            # London's rate is over the Met's area (London less the City): use what it implies.
            exposure = count * 1000 / rate
        figures[(area_id, cat, period, end)] = Figure(
            count=None if suppressed else count,
            suppressed=suppressed,
            rate=None if suppressed else rate,
            band=None if suppressed else band_by_index(band),
            exposure=exposure,
            withheld=withheld,
        )
    return figures


def _comparisons(
    *,
    area: Area,
    figure: Figure,
    last_year: Figure,
    parents: list[tuple[Area, Figure]],
    category: Category,
) -> list[Comparison]:
    noun, per = category.public_name, category.get_denominator_display()
    this = _side(area.name, figure)
    result = [
        compare(this, _side(parent.name, parent_figure), noun=noun, per=per)
        for parent, parent_figure in parents
    ]
    before = _side("a year earlier", last_year)
    result.append(compare(this, before, noun=noun, per=per, use_rates=False))
    return result


def _side(name: str, figure: Figure) -> Side:
    return Side(
        name=name,
        count=figure.count,
        rate=figure.rate,
        exposure=figure.exposure,
        suppressed=figure.suppressed,
        available=figure.available,
        label=figure.count_label if figure.suppressed else "",
        status=figure.status,
    )


def trend_period(level: str) -> Period:
    """Single months where the level publishes them (boroughs, London); elsewhere the 12 months
    ending each month, as ONS shows police recorded crime for small areas."""
    return Period.MONTH if Period.MONTH in periods_for(level) else Period.ROLLING_12


def _trend(
    *, area: Area, category: Category, end: date, figures: dict[Key, Figure]
) -> Trend | None:
    """The last 24 end months of the level's trend series, ending at ``end``.

    Months the Met has not published are left out; each point keeps its place on the time axis.
    """
    period = trend_period(area.level)
    ends = [add_months(end, -i) for i in reversed(range(TREND_MONTHS))]
    points = [
        TrendPoint(e, month_label(e), figures[(area.pk, category.pk, period.value, e)], i)
        for i, e in enumerate(ends)
        if (area.pk, category.pk, period.value, e) in figures
    ]
    if not points:
        return None
    if period == Period.MONTH:
        return Trend(period, "Crimes recorded each month", points)
    return Trend(
        period,
        "Crimes recorded in the 12 months ending each month",
        points,
        note="Single months are not published for areas this small: each point is the total "
        "for the 12 months ending that month.",
    )


def _content(area: Area, ancestors: list[Area]) -> dict[str, list[PageContent]]:
    codes = [area.code, *(a.code for a in ancestors)]
    rows = PageContent.objects.filter(
        Q(area_code="") | Q(area_code__in=codes),
        ~Q(kind=PageContent.Kind.NOTE) | Q(area_code=area.code),
    )
    grouped: dict[str, list[PageContent]] = {}
    for row in rows:
        if row.kind == PageContent.Kind.LINK and row.area_code not in ("", area.code):
            continue  # a borough's links belong on the borough's page
        grouped.setdefault(row.kind, []).append(row)
    return grouped


@dataclass(frozen=True)
class AreaLatest:
    """The latest month an area's figures run to; ``later_force`` names the force when it
    publishes later than the Met, so the page can say why its figures stop earlier."""

    month: date
    later_force: str = ""

    def note(self, label: str) -> str:
        """E.g. "12 months to March 2025: the City of London Police publish later than the
        Met"; empty for the Met's areas."""
        if not self.later_force:
            return ""
        return f"{label[:1].upper()}{label[1:]}: the {self.later_force} publish later than the Met."


def area_latest(*, publication: Publication, area: Area) -> AreaLatest:
    """Where an area's default view ends: the publication's latest month (the Met's), or for an
    area another force publishes, that force's own latest month with 12 whole months before it.

    Read from the publication's coverage, so it is what the publication was built from and
    needs no query. Never later than the publication's latest month (no later end is published).
    """
    latest = publication.latest_month
    source = source_for(code=area.code, borough_code=getattr(area.parent, "code", None))
    if source == MPS_SOURCE or not publication.coverage:
        return AreaLatest(latest)
    months = [
        month
        for month in covered_months(
            level=area.level,
            source=source.source,
            force=source.force,
            coverage=publication.coverage,
        )
        if month <= latest
    ]
    ends = complete_ends(Period.ROLLING_12, months) or months
    if not ends or ends[-1] == latest:
        return AreaLatest(latest)
    return AreaLatest(ends[-1], later_force=source.force)


def area_view(
    *,
    area: Area,
    publication: Publication,
    category: Category,
    categories: list[Category],
    period: Period,
    end: date,
    latest: date | None = None,
    map_key: str = "",
    with_trend: bool = True,
) -> AreaView:
    """One area's figures for every shown category, its parents', its map, trend and text.

    ``end`` is the period's end month; the trend runs to ``latest`` (default ``end``), the
    latest month published, even when the period shown is an earlier financial year.
    """
    latest = latest or end
    ancestors = _ancestors(area)
    map_key = map_key or map_keys(area.level)[0]
    shapes = display_shapes(areas=_map_members(area, map_key))
    focus = [area.pk, *(a.pk for a in ancestors)]
    last_year = add_months(end, -12)
    condition = Q(
        area_id__in=focus,
        category__in=[c.pk for c in categories],
        period=period.value,
        end_month__in=[end, last_year],
    ) | Q(
        area_id__in=[s.id for s in shapes],
        category=category,
        period=period.value,
        end_month=end,
    )
    if with_trend:
        condition |= Q(
            area_id=area.pk,
            category=category,
            period=trend_period(area.level).value,
            end_month__gt=add_months(latest, -TREND_MONTHS),
            end_month__lte=latest,
        ) | Q(area_id=area.pk, category=category, period=Period.FINANCIAL_YEAR.value)
    figures = _figure_rows(publication=publication, condition=condition)

    def get(area_id: int, cat: Category, when: date = end) -> Figure:
        return figures.get((area_id, cat.pk, period.value, when), NO_DATA)

    last_year_label = period_label(period, last_year)
    headlines = []
    for cat in categories:
        parents = [(a, get(a.pk, cat)) for a in ancestors]
        figure = get(area.pk, cat)
        before = get(area.pk, cat, last_year)
        headlines.append(
            Headline(
                category=cat,
                figure=figure,
                last_year=before,
                last_year_label=last_year_label,
                comparisons=_comparisons(
                    area=area,
                    figure=figure,
                    last_year=before,
                    parents=parents,
                    category=cat,
                ),
                parents=parents,
            )
        )
    map_areas = [
        MapArea(
            code=s.code,
            name=s.name,
            level=s.level,
            url=s.url,
            svg_path=s.svg_path,
            figure=figures.get((s.id, category.pk, period.value, end), NO_DATA),
            is_focus=s.id == area.pk,
        )
        for s in sorted(shapes, key=lambda s: (s.id != area.pk, s.name))
    ]
    long_run = sorted(
        (
            TrendPoint(e, period_label(Period.FINANCIAL_YEAR, e), f)
            for (a, c, p, e), f in figures.items()
            if a == area.pk and c == category.pk and p == Period.FINANCIAL_YEAR.value
        ),
        key=lambda point: point.end,
    )
    team = None
    if area.level == Level.WARD:
        team = SaferNeighbourhoodTeam.objects.filter(ward_code=area.code).first()
    return AreaView(
        area=area,
        ancestors=ancestors,
        category=category,
        categories=categories,
        period=period,
        end=end,
        period_label=period_label(period, end),
        figure=get(area.pk, category),
        ancestor_figures=[(a, get(a.pk, category)) for a in ancestors],
        map_areas=map_areas,
        view_box=_view_box(shapes),
        map_key=map_key,
        headlines=headlines,
        trend=_trend(area=area, category=category, end=latest, figures=figures)
        if with_trend
        else None,
        long_run=long_run,
        team=team,
        content=_content(area, ancestors) if with_trend else {},
    )


def display_geojson(*, codes: list[str]) -> dict[str, dict]:
    """Display outlines (WGS84) of current areas as GeoJSON geometries, by code."""
    import json

    from django.contrib.gis.db.models.functions import AsGeoJSON

    rows = (
        current_areas()
        .filter(code__in=codes)
        .annotate(shape=AsGeoJSON("display_geometry", precision=5))
        .values_list("code", "shape")
    )
    return {code: json.loads(shape) for code, shape in rows if shape}
