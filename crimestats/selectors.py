"""Reads for the public pages: published figures only, never raw counts."""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q, QuerySet

from areas.models import Area, Level
from areas.selectors import DisplayShape, children, current_areas, display_shapes, neighbours
from crimestats import disclosure
from crimestats.bands import Band, band_by_index
from crimestats.models import Category, Publication, PublishedFigure
from crimestats.periods import Period, period_label


@dataclass(frozen=True)
class Figure:
    """A published figure with the words and numbers a page shows for it."""

    count: int | None
    suppressed: bool
    rate: float | None
    band: Band | None
    available: bool = True

    @property
    def count_label(self) -> str:
        if not self.available:
            return "no data"
        if self.suppressed:
            return disclosure.Policy.from_settings().label
        return f"{self.count:,}"

    @property
    def rate_label(self) -> str:
        return "" if self.rate is None else f"{self.rate:,.1f}"


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


def current_publication() -> Publication | None:
    return Publication.objects.filter(is_current=True).first()


def shown_categories() -> list[Category]:
    return list(Category.objects.filter(shown=True, parent=None).order_by("id"))


def _ancestors(area: Area) -> list[Area]:
    chain, current = [], area.parent
    while current is not None:
        chain.append(current)
        current = current.parent
    return chain


def _map_members(area: Area) -> QuerySet[Area]:
    """The areas drawn on an area's map: children for London and boroughs, else neighbours."""
    if area.level == Level.REGION:
        return current_areas().filter(level=Level.BOROUGH)
    if area.level == Level.BOROUGH:
        return children(area=area, level=Level.WARD)
    return current_areas().filter(Q(pk=area.pk) | Q(pk__in=neighbours(area=area).values("pk")))


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


def _figures(
    *, publication: Publication, area_ids: list[int], category: Category, period: Period, end: date
) -> dict[int, Figure]:
    rows = PublishedFigure.objects.filter(
        publication=publication,
        area_id__in=area_ids,
        category=category,
        period=period.value,
        end_month=end,
    ).values_list("area_id", "count", "suppressed", "rate", "band")
    return {
        area_id: Figure(count=count, suppressed=suppressed, rate=rate, band=band_by_index(band))
        for area_id, count, suppressed, rate, band in rows
    }


def area_view(
    *, area: Area, publication: Publication, category: Category, period: Period, end: date
) -> AreaView:
    """One area's figures, its parents' and those of every area on its map."""
    ancestors = _ancestors(area)
    shapes = display_shapes(areas=_map_members(area))
    ids = [area.pk, *(a.pk for a in ancestors), *(s.id for s in shapes)]
    figures = _figures(
        publication=publication, area_ids=ids, category=category, period=period, end=end
    )
    map_areas = [
        MapArea(
            code=s.code,
            name=s.name,
            level=s.level,
            url=s.url,
            svg_path=s.svg_path,
            figure=figures.get(s.id, NO_DATA),
            is_focus=s.id == area.pk,
        )
        for s in sorted(shapes, key=lambda s: (s.id != area.pk, s.name))
    ]
    return AreaView(
        area=area,
        ancestors=ancestors,
        category=category,
        categories=[],
        period=period,
        end=end,
        period_label=period_label(period, end),
        figure=figures.get(area.pk, NO_DATA),
        ancestor_figures=[(a, figures.get(a.pk, NO_DATA)) for a in ancestors],
        map_areas=map_areas,
        view_box=_view_box(shapes),
    )
