"""Boundary sets, areas and their hierarchy: the geography every figure hangs on."""

from django.contrib.gis.db import models
from django.db.models import Q
from django.urls import reverse


class Level(models.TextChoices):
    REGION = "region", "London"
    BOROUGH = "borough", "Borough"
    WARD = "ward", "Ward"
    LSOA = "lsoa", "LSOA"


# Official GSS code prefix for each level; the database checks it too.
CODE_PREFIX = {
    Level.REGION: "E12",
    Level.BOROUGH: "E09",
    Level.WARD: "E05",
    Level.LSOA: "E01",
}


class BoundarySet(models.Model):
    """One generation of boundaries for a level (e.g. "LSOA 2021"); exactly one is current."""

    level = models.CharField(max_length=10, choices=Level.choices)
    name = models.CharField(max_length=200)
    vintage = models.CharField(max_length=20, help_text="e.g. 2021, 2022")
    source_files = models.TextField(blank=True, help_text="file names the set was read from")
    checksum = models.CharField(max_length=64, blank=True, help_text="SHA-256 over the sources")
    notes = models.TextField(blank=True)
    is_current = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["level"], condition=Q(is_current=True), name="one_current_set_per_level"
            ),
        ]

    def __str__(self) -> str:
        current = " (current)" if self.is_current else ""
        return f"{self.get_level_display()}: {self.name}{current}"


class CurrentSetChange(models.Model):
    """A boundary set made current, and when: which sets were current at any moment can be
    read back, so rolling the site back to an earlier state restores its boundaries too."""

    level = models.CharField(max_length=10, choices=Level.choices)
    boundary_set = models.ForeignKey(BoundarySet, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M}: {self.level} set {self.boundary_set_id} current"


class Area(models.Model):
    """An area keyed by its official code, with full-resolution and display geometries."""

    boundary_set = models.ForeignKey(BoundarySet, on_delete=models.CASCADE, related_name="areas")
    level = models.CharField(max_length=10, choices=Level.choices)
    code = models.CharField(max_length=9)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # LSOAs only: the ONS best-fit ward (LSOAs do not nest in wards).
    best_fit_ward = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="best_fit_lsoas"
    )
    geometry = models.MultiPolygonField(srid=27700)
    # Made once per boundary set by a coverage simplification (areas/services/display.py).
    display_geometry = models.MultiPolygonField(srid=4326, null=True, blank=True)
    svg_path = models.TextField(blank=True, help_text="display outline as SVG path data, in metres")
    neighbours = models.ManyToManyField("self", symmetrical=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["boundary_set", "code"], name="unique_code_per_set"),
            models.CheckConstraint(
                condition=(
                    Q(level=Level.REGION, code__startswith="E12")
                    | Q(level=Level.BOROUGH, code__startswith="E09")
                    | Q(level=Level.WARD, code__startswith="E05")
                    | Q(level=Level.LSOA, code__startswith="E01")
                ),
                name="code_prefix_matches_level",
            ),
        ]
        indexes = [models.Index(fields=["code"]), models.Index(fields=["level", "name"])]
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def get_absolute_url(self) -> str:
        return area_url(level=self.level, code=self.code, slug=self.slug)


def area_url(*, level: str, code: str, slug: str) -> str:
    """The canonical page of an area: by official code, with a readable slug."""
    if level == Level.REGION:
        return reverse("london")
    return reverse("area", kwargs={"level": level, "code": code, "slug": slug})


class Postcode(models.Model):
    """A London postcode (Code-Point Open) with its LSOA and ward found once, at import."""

    postcode = models.CharField(max_length=8, unique=True, help_text="e.g. SW1A 1AA")
    # Without the space, for prefix search of partial input ("SW1A1").
    compact = models.CharField(max_length=7, unique=True)
    location = models.PointField(srid=27700)
    lsoa_code = models.CharField(max_length=9, blank=True)
    ward_code = models.CharField(max_length=9, blank=True)
    borough_code = models.CharField(max_length=9)

    class Meta:
        ordering = ["compact"]
        # LIKE 'SW1A1%' needs a pattern index (the database collation is not C).
        indexes = [
            models.Index(
                fields=["compact"],
                name="postcode_compact_prefix",
                opclasses=["varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.postcode


class PostcodeLoad(models.Model):
    """What the postcodes were last placed against, so a second load with no change is a no-op."""

    checksum = models.CharField(max_length=64)
    postcodes = models.PositiveIntegerField(default=0)
    loaded_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.postcodes:,} postcodes ({self.loaded_at:%Y-%m-%d %H:%M})"


class SaferNeighbourhoodTeam(models.Model):
    """A Met Safer Neighbourhoods team, keyed by ward code; links and contacts staff can edit."""

    ward_code = models.CharField(max_length=9, unique=True)
    policeuk_id = models.CharField(max_length=20, help_text="police.uk neighbourhood id")
    name = models.CharField(max_length=200)
    ward_name = models.CharField(max_length=200)
    borough_name = models.CharField(max_length=100)
    met_url = models.URLField(blank=True, help_text="made from the Met's URL pattern: check it")
    police_uk_url = models.URLField(blank=True, help_text="made from police.uk's URL pattern")
    phone = models.CharField(max_length=50, blank=True)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    priorities = models.TextField(blank=True, help_text="current local priorities")
    meetings = models.TextField(blank=True, help_text="public meetings: when and where")
    last_seen = models.DateField(null=True, blank=True)
    edited_by_staff = models.BooleanField(
        default=False, help_text="set when staff change a team; the importer then keeps it"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "Safer Neighbourhoods team"

    def __str__(self) -> str:
        return f"{self.name} ({self.ward_code})"
