"""Categories, releases (one per imported file), monthly counts and census denominators."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property

from areas.models import Area, Level


class Category(models.Model):
    """A crime category as the sources name it: a major one, or a minor one under its major."""

    class Denominator(models.TextChoices):
        HOUSEHOLDS = "households", "households"
        RESIDENTS = "residents", "residents"

    name = models.CharField(max_length=200, help_text="as written in the source files")
    slug = models.SlugField(max_length=200, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="minors"
    )
    shown = models.BooleanField(
        default=False, help_text="to be shown on the public site from the next publish"
    )
    label = models.CharField(max_length=100, blank=True, help_text="public name, e.g. Burglary")
    denominator = models.CharField(
        max_length=10, choices=Denominator.choices, default=Denominator.RESIDENTS
    )

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent=None), name="unique_major_name"
            ),
            models.UniqueConstraint(fields=["parent", "name"], name="unique_minor_name"),
        ]

    def __str__(self) -> str:
        return f"{self.parent.name} / {self.name}" if self.parent_id else self.name

    @property
    def public_name(self) -> str:
        return self.label or self.name.capitalize()


class CategoryAlias(models.Model):
    """Maps a source's own category name (e.g. police.uk "Vehicle crime") to one of ours."""

    source = models.CharField(max_length=20)
    name = models.CharField(max_length=200)
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="aliases")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "name"], name="unique_alias_per_source")
        ]

    def __str__(self) -> str:
        return f"{self.source}: {self.name} → {self.category}"


class Release(models.Model):
    """One imported file: where it came from, what it covers, who loaded it and when."""

    class Source(models.TextChoices):
        MPS = "mps", "MPS London Datastore"
        POLICE_UK = "police-uk", "police.uk street-level"

    source = models.CharField(max_length=20, choices=Source.choices)
    # The force that recorded the crimes, e.g. "City of London Police" on police.uk files.
    force = models.CharField(max_length=100)
    level = models.CharField(max_length=10, choices=Level.choices)
    layout = models.CharField(max_length=40, help_text="e.g. mps-24-months, mps-historical")
    first_month = models.DateField()
    last_month = models.DateField()
    file_name = models.CharField(max_length=300)
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the file")
    row_count = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-imported_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "level", "checksum"], name="unique_file_per_source_level"
            )
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.first_month:%Y-%m} to {self.last_month:%Y-%m})"


class MonthlyCount(models.Model):
    """A count of recorded crimes for one area, category and month, as one release gave it."""

    # Millions of rows arrive by COPY: per-row foreign-key triggers made the London load three
    # times slower, so there are no database FK constraints here. The importers validate every
    # id before writing, and Django still cascades and protects on delete. The release and area
    # columns need no index of their own: the two composite indexes below lead with them.
    release = models.ForeignKey(
        Release,
        on_delete=models.CASCADE,
        related_name="counts",
        db_constraint=False,
        db_index=False,
    )
    area = models.ForeignKey(
        Area, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    month = models.DateField(help_text="first day of the month")
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["release", "area", "category", "month"], name="unique_count_per_release"
            )
        ]
        indexes = [models.Index(fields=["area", "category", "month"])]

    def __str__(self) -> str:
        return f"{self.area_id} {self.category_id} {self.month:%Y-%m}: {self.count}"


class CurrentMonth(models.Model):
    """Which release is current for a (source, force, level, month): a newer file replaces it."""

    source = models.CharField(max_length=20, choices=Release.Source.choices)
    force = models.CharField(max_length=100)
    level = models.CharField(max_length=10, choices=Level.choices)
    month = models.DateField()
    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="current_months")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "force", "level", "month"], name="one_release_per_month"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}/{self.level} {self.month:%Y-%m} → release {self.release_id}"


class Denominator(models.Model):
    """Census 2021 residents and households for an area (LSOA exact; others summed from LSOAs)."""

    area = models.OneToOneField(Area, on_delete=models.CASCADE, related_name="denominator")
    residents = models.PositiveIntegerField()
    households = models.PositiveIntegerField()
    source = models.CharField(max_length=200)

    def __str__(self) -> str:
        return f"{self.area_id}: {self.residents} residents, {self.households} households"


class FigureBlock(models.Model):
    """The published figures of one level and source (e.g. the MPS's LSOAs), immutable.

    A publication is a set of blocks: a new one reuses every block whose figures did not change
    (a police.uk month for the City leaves the Met's blocks as they were), so publishing writes
    only what changed. Blocks written before blocks existed hold a whole publication (level and
    source blank).
    """

    level = models.CharField(max_length=10, blank=True)
    source = models.CharField(max_length=20, blank=True)
    force = models.CharField(max_length=100, blank=True)
    figure_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Figures {self.pk}: {self.level or 'all levels'} {self.source}".strip()


class Publication(models.Model):
    """An immutable snapshot of every figure the site shows, built from the current releases."""

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    is_current = models.BooleanField(default=False)
    latest_month = models.DateField(help_text="the latest month with data: the default end month")
    releases = models.ManyToManyField(Release, related_name="publications")
    blocks = models.ManyToManyField(FigureBlock, related_name="publications")
    figure_count = models.PositiveIntegerField(default=0)
    notes = models.TextField(blank=True)
    # Which release was current for each (source, force, level, month) when this was built:
    # the raw counts behind it can be read again (earlier releases stay public in the archive).
    coverage = models.JSONField(default=list, blank=True)
    # Share of cells and crimes hidden, by level and category (crimestats/disclosure.py).
    disclosure_summary = models.JSONField(default=dict, blank=True)
    # The publication that was current when this one was built: its figures stay public in
    # the archive, so this one was protected (and is audited) beside them.
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Digests of what besides its raw counts a series' statuses depend on (policy, end months)
    # and its rows (also denominators, London's figures, boundaries): when they are equal, an
    # unchanged series keeps its statuses, or its rows are copied (services/previous.py).
    protection_context = models.CharField(max_length=64, blank=True)
    context = models.CharField(max_length=64, blank=True)
    # When it was first made current: from then on its figures are in people's downloads for
    # good, so every later publication is protected (and audited) beside it, rolled back or not.
    first_public_at = models.DateTimeField(null=True, blank=True)
    # The exact relations between levels found in its raw counts (crimestats/relations.py):
    # what protection and the audit modelled, kept with what it published.
    relations = models.JSONField(default=dict, blank=True)
    # The categories it shows, as flagged when it was built: the admin's "shown" flag is what
    # staff want next, and reaches the public only through a publication (and a rollback to
    # this one brings this set back).
    categories = models.ManyToManyField(Category, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=Q(is_current=True), name="one_current_publication"
            )
        ]

    def __str__(self) -> str:
        current = " (current)" if self.is_current else ""
        return f"Publication {self.pk} to {self.latest_month:%B %Y}{current}"

    @cached_property
    def block_ids(self) -> list[int]:
        """Its figure blocks (selectors.current_publication fetches them with it)."""
        return list(self.blocks.values_list("id", flat=True))


class PublishedFigureQuerySet(models.QuerySet):
    def of(self, publication: "Publication") -> "PublishedFigureQuerySet":
        """The figures a publication shows (those of its blocks). The block ids go in as a
        list: the planner then combines them with a page's other conditions in the unique
        index, where a join or subquery made it scan the table."""
        return self.filter(block_id__in=publication.block_ids)


class PublishedFigure(models.Model):
    """One figure as published: disclosure control already applied, so every output reads it."""

    # Written only by the publication builder, up to ~700,000 rows at a time: no single-column
    # indexes (the unique index (block, area, category, ...) serves every read) and no database
    # foreign keys (their per-row checks took longer than writing the rows); Django still
    # cascades and protects deletions.
    block = models.ForeignKey(
        FigureBlock,
        on_delete=models.CASCADE,
        related_name="figures",
        db_index=False,
        db_constraint=False,
    )
    area = models.ForeignKey(
        Area, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    period = models.CharField(max_length=5)
    end_month = models.DateField()
    count = models.PositiveIntegerField(null=True, help_text="null when suppressed")
    suppressed = models.BooleanField(default=False)
    withheld = models.BooleanField(
        default=False, help_text="hidden by secondary suppression: shown as 'not shown'"
    )
    rate = models.FloatField(null=True, help_text="per 1,000 households or residents")
    band = models.PositiveSmallIntegerField(null=True, help_text="index into crimestats.bands")

    objects = PublishedFigureQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["block", "area", "category", "period", "end_month"],
                name="one_figure_per_cell_of_a_block",
            ),
            models.CheckConstraint(
                condition=Q(suppressed=False) | Q(count=None, rate=None, band=None),
                name="suppressed_figures_have_no_value",
            ),
            models.CheckConstraint(
                condition=Q(withheld=False) | Q(suppressed=True),
                name="withheld_figures_are_suppressed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area_id} {self.category_id} {self.period} {self.end_month:%Y-%m}"


# Staff-edited page text and feedback live in their own module; importing registers them.
from crimestats.content_models import Feedback, PageContent  # noqa: E402, F401


class Upload(models.Model):
    """A file an admin uploaded: validated in the background, previewed, then published.

    The row is also the job: the worker (`manage.py process_uploads`) claims queued uploads with
    SELECT ... FOR UPDATE SKIP LOCKED, so a closed browser tab neither stops nor repeats the work.
    """

    class Kind(models.TextChoices):
        AUTO = "auto", "detect from the header"
        MPS = "mps", "MPS London Datastore (LSOA, ward or borough)"
        POLICE_UK = "police-uk", "police.uk street-level (one force, one month)"
        CENSUS = "census", "Census 2021 denominators (prepared or Nomis bulk)"
        BOUNDARIES = "boundaries", "boundary file (borough, ward or LSOA; any format GDAL reads)"
        SNT = "snt", "Safer Neighbourhoods team list"

    class Status(models.TextChoices):
        QUEUED = "queued", "waiting to be checked"
        VALIDATING = "validating", "checking every row"
        REJECTED = "rejected", "rejected: errors in the file"
        VALID = "valid", "checked: ready to preview and publish"
        PUBLISH_QUEUED = "publish-queued", "waiting to be published"
        PUBLISHING = "publishing", "publishing"
        PUBLISHED = "published", "published"
        FAILED = "failed", "publishing failed: nothing changed"

    file = models.FileField(upload_to="uploads/%Y/%m/", max_length=300)
    file_name = models.CharField(max_length=300, help_text="the name the file was uploaded as")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.AUTO)
    detected = models.CharField(max_length=200, blank=True, help_text="what the header says")
    size = models.BigIntegerField(default=0)
    checksum = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="the first 100 errors")
    errors_csv = models.TextField(blank=True, help_text="every error, as CSV")
    warnings = models.JSONField(default=list, blank=True)
    new_categories = models.JSONField(default=list, blank=True)
    preview = models.JSONField(default=dict, blank=True)
    revision_note = models.TextField(
        blank=True,
        help_text="why the figures change, shown on the public releases page; required when "
        "the file restates months already published",
    )
    rows = models.PositiveIntegerField(default=0)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    base_publication = models.ForeignKey(
        Publication,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the publication current when the preview was made",
    )
    releases = models.ManyToManyField(Release, blank=True, related_name="uploads")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("publish_upload", "Can publish a checked upload"),
            ("rollback_release", "Can roll back to an earlier release state"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def busy(self) -> bool:
        return self.status in {
            self.Status.QUEUED,
            self.Status.VALIDATING,
            self.Status.PUBLISH_QUEUED,
            self.Status.PUBLISHING,
        }

    @property
    def percent(self) -> int:
        if not self.progress_total:
            return 0
        return min(100, round(100 * self.progress_done / self.progress_total))


class ReleaseState(models.Model):
    """Which release was current for every month, and the publication built from that.

    Recorded at each publish and rollback, so the site can return to any earlier state.
    """

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    publication = models.ForeignKey(
        Publication, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    current_months = models.JSONField(help_text="[source, force, level, month, release id] rows")
    denominators = models.JSONField(
        default=list,
        blank=True,
        help_text="[level, area code, residents, households, source] rows current then",
    )
    note = models.CharField(max_length=300)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M}: {self.note}"


class RollbackJob(models.Model):
    """A rollback that rebuilds a publication, run by the upload worker (`process_uploads`).

    A rebuild takes longer than a web request may; the row is the job (claimed like an upload)
    and its progress, which the admin page shows until it is done.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "waiting for the worker"
        RUNNING = "running", "rolling back"
        DONE = "done", "done"
        FAILED = "failed", "failed: nothing changed"

    state = models.ForeignKey(ReleaseState, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.TextField(blank=True, help_text="what the rebuild has done so far")
    message = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Rollback to state {self.state_id} ({self.get_status_display()})"

    @property
    def busy(self) -> bool:
        return self.status in {self.Status.QUEUED, self.Status.RUNNING}


class Revision(models.Model):
    """One change to what the public sees: a publication made current, or a rollback.

    The releases page and the Atom feeds read these; ``changes`` keeps what the upload's
    preview said (months added and restated, and by how much), as it was when published.
    """

    class Kind(models.TextChoices):
        PUBLISH = "publish", "published"
        ROLLBACK = "rollback", "rolled back"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="revisions")
    replaced = models.ForeignKey(
        Publication,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the publication that was public before",
    )
    upload = models.ForeignKey(
        Upload, null=True, blank=True, on_delete=models.SET_NULL, related_name="revisions"
    )
    note = models.TextField(blank=True, help_text="the revision note, as the public reads it")
    # {"files": what each file's preview said, "restated": months whose counts changed, with
    # London's and each borough's totals before and after (services/revisions.py)}
    changes = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return (
            f"{self.at:%Y-%m-%d %H:%M}: {self.get_kind_display()} publication {self.publication_id}"
        )


class AuditLog(models.Model):
    """Every upload, validation, publish and rollback: who, when, which file, what counts."""

    class Action(models.TextChoices):
        UPLOAD = "upload", "upload"
        VALIDATE = "validate", "validated"
        REJECT = "reject", "rejected"
        ACKNOWLEDGE = "acknowledge", "warnings acknowledged"
        PUBLISH = "publish", "published"
        PUBLISH_FAILED = "publish-failed", "publish failed"
        ROLLBACK = "rollback", "rolled back"
        ROLLBACK_FAILED = "rollback-failed", "rollback failed"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    username = models.CharField(max_length=150, blank=True, help_text="kept if the user goes")
    action = models.CharField(max_length=20, choices=Action.choices)
    upload = models.ForeignKey(
        Upload, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit"
    )
    file_name = models.CharField(max_length=300, blank=True)
    checksum = models.CharField(max_length=64, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username or '-'} {self.action} {self.file_name}"
