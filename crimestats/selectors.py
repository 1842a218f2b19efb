"""Reads for the public pages: published figures only, never raw counts."""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import F, FloatField, Func, Q

from areas.models import Area, Level
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


def find_area(*, level: str, code: str) -> Area | None:
    return (
        Area.objects.filter(boundary_set__is_current=True, level=level, code=code.upper())
        .select_related("parent__parent__parent")
        .first()
    )


def _ancestors(area: Area) -> list[Area]:
    chain, current = [], area.parent
    while current is not None:
        chain.append(current)
        current = current.parent
    return chain


def _map_members(area: Area):
    """The areas drawn on an area's map: children for London and boroughs, else neighbours."""
    current = Area.objects.filter(boundary_set__is_current=True)
    if area.level == Level.REGION:
        members = current.filter(level=Level.BOROUGH)
    elif area.level == Level.BOROUGH:
        members = current.filter(level=Level.WARD, parent=area)
    else:
        members = current.filter(Q(pk=area.pk) | Q(pk__in=area.neighbours.values("pk")))
    return members.annotate(
        xmin=Func(F("geometry"), function="ST_XMin", output_field=FloatField()),
        xmax=Func(F("geometry"), function="ST_XMax", output_field=FloatField()),
        ymin=Func(F("geometry"), function="ST_YMin", output_field=FloatField()),
        ymax=Func(F("geometry"), function="ST_YMax", output_field=FloatField()),
    ).only("id", "code", "name", "slug", "level", "svg_path")


def _view_box(members: list[Area]) -> str:
    if not members:
        return "0 0 1 1"
    xmin = min(m.xmin for m in members)
    xmax = max(m.xmax for m in members)
    ymin = min(m.ymin for m in members)
    ymax = max(m.ymax for m in members)
    pad = max(xmax - xmin, ymax - ymin) * 0.02
    width, height = xmax - xmin + 2 * pad, ymax - ymin + 2 * pad
    return f"{xmin - pad:.0f} {-ymax - pad:.0f} {width:.0f} {height:.0f}"


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
    members = list(_map_members(area))
    ids = [area.pk, *(a.pk for a in ancestors), *(m.pk for m in members)]
    figures = _figures(
        publication=publication, area_ids=ids, category=category, period=period, end=end
    )
    map_areas = [
        MapArea(
            code=m.code,
            name=m.name,
            level=m.level,
            url=m.get_absolute_url(),
            svg_path=m.svg_path,
            figure=figures.get(m.pk, NO_DATA),
            is_focus=m.pk == area.pk,
        )
        for m in sorted(members, key=lambda m: (m.pk != area.pk, m.name))
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
        view_box=_view_box(members),
    )
