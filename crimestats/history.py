"""Reads for the releases page, the open data of earlier publications and the Atom feeds.

The public history is a timeline of switches: each publication made current (recorded as a
``Revision`` by the publish, or, for publications made before revisions existed or by
``load_london``, known from ``Publication.first_public_at``) and each rollback.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection
from django.db.models import Q

from areas.models import Area
from crimestats import disclosure
from crimestats.models import Category, Publication, PublishedFigure, Release, Revision
from crimestats.periods import Period, period_label

KIND_WORDS = {"publish": "New figures published", "rollback": "Figures withdrawn: rollback"}
LOADED = "loaded"  # a publication with no revision (first load, or before revisions existed)


@dataclass
class Entry:
    """One switch of what the public sees."""

    key: str  # stable anchor: "r<revision id>" or "p<publication id>"
    kind: str  # publish | rollback
    at: datetime
    publication: Publication
    replaced: Publication | None
    revision: Revision | None = None

    @property
    def note(self) -> str:
        return self.revision.note if self.revision else ""

    @property
    def files(self) -> list[dict]:
        """What each uploaded file's preview said (months added, boundaries, census)."""
        return (self.revision.changes or {}).get("files", []) if self.revision else []

    @property
    def restated(self) -> list[dict]:
        """Months public before whose counts changed, with London's and boroughs' totals."""
        return (self.revision.changes or {}).get("restated", []) if self.revision else []

    @property
    def title(self) -> str:
        if self.kind == Revision.Kind.ROLLBACK:
            withdrawn = f" of {_day(self.replaced)}" if self.replaced else ""
            return f"Rollback: the figures{withdrawn} withdrawn"
        return f"Figures to {self.publication.latest_month:%B %Y} published"

    @property
    def summary(self) -> str:
        """One sentence a person can read in a feed or a list."""
        if self.kind == Revision.Kind.ROLLBACK and self.replaced is not None:
            returned = self.publication.first_public_at or self.publication.created_at
            return (
                f"The figures published on {_day(self.replaced)} were withdrawn and the site "
                f"returned to those of {returned:%-d %B %Y} (publication {self.publication.pk})."
            )
        added = sorted({m for c in self.files for m in c.get("months_added", [])})
        restated = sorted({m for c in self.restated for m in c["months"]})
        parts = [
            f"Publication {self.publication.pk}, figures to {self.publication.latest_month:%B %Y}."
        ]
        if added:
            parts.append(f"Months added: {_months(added)}.")
        if restated:
            parts.append(f"Months restated: {_months(restated)}.")
        if self.revision is None:
            parts.append("Loaded from the files listed.")
        return " ".join(parts)


def _day(publication: Publication) -> str:
    when = publication.first_public_at or publication.created_at
    return f"{when:%-d %B %Y}"


def _months(months: list[str]) -> str:
    labels = [date.fromisoformat(m).strftime("%B %Y") for m in months]
    if len(labels) > 3:
        return f"{labels[0]} to {labels[-1]} ({len(labels)} months)"
    return ", ".join(labels)


def public_publications() -> Iterable[Publication]:
    """Every publication that was ever public, newest first."""
    return Publication.objects.filter(first_public_at__isnull=False).order_by("-first_public_at")


def timeline() -> list[Entry]:
    """Every switch of the public figures, oldest first."""
    revisions = list(
        Revision.objects.select_related("publication", "replaced").order_by("at", "pk")
    )
    published = {r.publication_id for r in revisions if r.kind == Revision.Kind.PUBLISH}
    entries = [Entry(f"r{r.pk}", r.kind, r.at, r.publication, r.replaced, r) for r in revisions] + [
        Entry(f"p{p.pk}", Revision.Kind.PUBLISH, p.first_public_at, p, None)
        for p in public_publications()
        if p.pk not in published
    ]
    entries.sort(key=lambda e: (e.at, e.key))
    before = None
    for entry in entries:
        if entry.revision is None:
            entry.replaced = before
        before = entry.publication
    return entries


def entries_of(publication: Publication, entries: list[Entry]) -> list[Entry]:
    """The switches that made one publication current (its publish, and any rollback to it)."""
    return [e for e in entries if e.publication.pk == publication.pk]


def public_publication(pk: int) -> Publication | None:
    """A publication that was ever public (a built but unpublished one is not)."""
    public = Q(first_public_at__isnull=False) | Q(is_current=True)
    return Publication.objects.filter(public, pk=pk).first()


def previous_public(publication: Publication) -> Publication | None:
    """The publication that was public just before this one first went public."""
    for entry in timeline():
        if entry.publication.pk == publication.pk:
            return entry.replaced
    return None


@dataclass(frozen=True)
class FileRow:
    name: str
    checksum: str
    what: str
    months: str
    new: bool


def files_of(publication: Publication, replaced: Publication | None) -> list[FileRow]:
    """The files behind a publication, those new since the one it replaced first."""
    before = set(replaced.releases.values_list("pk", flat=True)) if replaced else set()
    rows = [
        FileRow(
            name=r.file_name,
            checksum=r.checksum,
            what=f"{r.get_source_display()}, {r.force}, {r.level}",
            months=f"{r.first_month:%B %Y} to {r.last_month:%B %Y}",
            new=r.pk not in before,
        )
        for r in Release.objects.filter(publications=publication).order_by("source", "level", "pk")
    ]
    return sorted(rows, key=lambda f: not f.new)


# --- figures of one area, compared between publications ------------------------------------

Key = tuple[int, str, date]  # category id, period, end month


@dataclass(frozen=True)
class Shown:
    """A figure as a feed says it: "31", "fewer than 5" or "not shown"."""

    status: str
    count: int | None

    def words(self, policy: disclosure.Policy) -> str:
        if self.status == disclosure.Status.EXACT:
            return f"{self.count:,}"
        if self.status == disclosure.Status.SMALL:
            return policy.label
        return policy.withheld_label


@dataclass
class AreaChange:
    """What one switch changed in one area's published figures."""

    changed: list[tuple[Category, str, date, Shown, Shown]] = field(default_factory=list)
    added: list[tuple[Category, str, date, Shown]] = field(default_factory=list)
    removed: list[tuple[Category, str, date, Shown]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changed or self.added or self.removed)

    def lines(self, policy: disclosure.Policy, limit: int = 40) -> list[str]:
        """The change in words, latest periods first; a withheld figure is "not shown"."""

        def what(category: Category, period: str, end: date) -> str:
            return f"{category.public_name}, {period_label(Period(period), end)}"

        order = {p: n for n, p in enumerate(Period)}
        out = [
            f"{what(c, p, e)}: was {old.words(policy)}, now {new.words(policy)}."
            for c, p, e, old, new in sorted(
                self.changed, key=lambda x: (-x[2].toordinal(), order[x[1]], x[0].pk)
            )
        ]
        out += [
            f"New: {what(c, p, e)}: {new.words(policy)}."
            for c, p, e, new in sorted(
                self.added, key=lambda x: (-x[2].toordinal(), order[x[1]], x[0].pk)
            )
        ]
        out += [
            f"No longer shown: {what(c, p, e)} (was {old.words(policy)})."
            for c, p, e, old in sorted(self.removed, key=lambda x: (-x[2].toordinal(), x[0].pk))
        ]
        if len(out) > limit:
            out = out[:limit] + [f"… and {len(out) - limit:,} more (see the “what changed” file)."]
        return out


def _area_figures(area: Area, publication: Publication | None) -> dict[Key, Shown]:
    if publication is None:
        return {}
    rows = (
        PublishedFigure.objects.of(publication)
        .filter(area=area)
        .values_list("category_id", "period", "end_month", "count", "suppressed", "withheld")
    )
    return {
        (c, p, e): Shown(disclosure.Status.of(suppressed=s, withheld=w).value, n)
        for c, p, e, n, s, w in rows
    }


def area_history(area: Area, *, limit: int = 30) -> list[tuple[Entry, AreaChange]]:
    """The switches that changed this area's figures, newest first, each with what changed."""
    entries = timeline()
    # Every category any publication showed: a feed names one shown then and hidden since.
    categories = {c.pk: c for c in Category.objects.filter(parent=None)}
    cache: dict[int, dict[Key, Shown]] = {}

    def figures(publication: Publication | None) -> dict[Key, Shown]:
        if publication is None:
            return {}
        if publication.pk not in cache:
            cache[publication.pk] = _area_figures(area, publication)
        return cache[publication.pk]

    found: list[tuple[Entry, AreaChange]] = []
    for entry in reversed(entries):
        if len(found) >= limit:
            break
        new, old = figures(entry.publication), figures(entry.replaced)
        change = AreaChange(
            changed=[
                (categories[k[0]], k[1], k[2], old[k], new[k])
                for k in new.keys() & old.keys()
                if old[k] != new[k]
            ],
            added=[(categories[k[0]], k[1], k[2], new[k]) for k in new.keys() - old.keys()],
            removed=[(categories[k[0]], k[1], k[2], old[k]) for k in old.keys() - new.keys()],
        )
        if change:
            found.append((entry, change))
    return found


# --- the "what changed" file between two publications -----------------------------------

CHANGES_SQL = """
    WITH new AS (
        SELECT area_id, category_id, period, end_month, count, suppressed, withheld
        FROM crimestats_publishedfigure WHERE block_id = ANY(%(new)s)
    ), old AS (
        SELECT area_id, category_id, period, end_month, count, suppressed, withheld
        FROM crimestats_publishedfigure WHERE block_id = ANY(%(old)s)
    )
    SELECT a.code, a.name, a.level, c.slug, period, end_month,
           old.count, old.suppressed, old.withheld, new.count, new.suppressed, new.withheld,
           old.area_id IS NOT NULL, new.area_id IS NOT NULL
    FROM new FULL OUTER JOIN old USING (area_id, category_id, period, end_month)
    JOIN areas_area a ON a.id = COALESCE(new.area_id, old.area_id)
    JOIN crimestats_category c ON c.id = COALESCE(new.category_id, old.category_id)
    WHERE old.area_id IS NULL OR new.area_id IS NULL
       OR old.count IS DISTINCT FROM new.count
       OR old.suppressed <> new.suppressed OR old.withheld <> new.withheld
    ORDER BY a.level, a.code, c.slug, period, end_month
"""


def changed_figures(*, new: Publication, old: Publication | None) -> Iterable[tuple]:
    """Every figure that differs between two publications: (code, name, level, category,
    period, end month, old status, old count, new status, new count); status "" where the
    figure is not in that publication. Blocks both share hold the same figures: skipped."""
    new_blocks = set(new.blocks.values_list("pk", flat=True))
    old_blocks = set(old.blocks.values_list("pk", flat=True)) if old else set()
    shared = new_blocks & old_blocks
    with connection.cursor() as cursor:
        cursor.execute(
            CHANGES_SQL, {"new": sorted(new_blocks - shared), "old": sorted(old_blocks - shared)}
        )
        for row in cursor:
            code, name, level, slug, period, end = row[:6]
            o_count, o_sup, o_wh, n_count, n_sup, n_wh, in_old, in_new = row[6:]
            old_status = (
                disclosure.Status.of(suppressed=o_sup, withheld=o_wh).value if in_old else ""
            )
            new_status = (
                disclosure.Status.of(suppressed=n_sup, withheld=n_wh).value if in_new else ""
            )
            yield (
                code,
                name,
                level,
                slug,
                period,
                end,
                old_status,
                None if o_sup else o_count,
                new_status,
                None if n_sup else n_count,
            )
