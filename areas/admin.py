"""Admin for boundary sets and areas: browse and search; geometry comes only from importers."""

from django.contrib import admin
from django.db import models
from django.db.models import Count
from leaflet.admin import LeafletGeoAdmin

from areas.models import Area, BoundarySet, Postcode, SaferNeighbourhoodTeam


@admin.register(BoundarySet)
class BoundarySetAdmin(admin.ModelAdmin):
    list_display = ["name", "level", "vintage", "is_current", "area_count", "created_at"]
    list_filter = ["level", "is_current"]
    search_fields = ["name", "vintage", "source_files"]
    # Sets are made by importers; staff may only edit the notes.
    readonly_fields = [
        "level",
        "name",
        "vintage",
        "source_files",
        "checksum",
        "is_current",
        "created_at",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(area_count=Count("areas"))

    @admin.display(description="areas", ordering="area_count")
    def area_count(self, obj: BoundarySet) -> int:
        return obj.area_count

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Deleting the current set would leave a level without areas.
        allowed = super().has_delete_permission(request, obj)
        return bool(allowed and obj is not None and not obj.is_current)


@admin.register(Area)
class AreaAdmin(LeafletGeoAdmin):
    list_display = ["name", "code", "level", "parent", "boundary_set"]
    list_filter = ["level", "boundary_set__is_current", "boundary_set"]
    search_fields = ["code", "name", "slug"]
    list_select_related = ["parent", "boundary_set"]
    # Areas come from official files: everything is read-only. The display geometry is shown on
    # a locked Leaflet map (served locally, no tiles unless TILE_URL is set); the full geometry
    # is left out, as it can be megabytes.
    readonly_fields = [
        "boundary_set",
        "level",
        "code",
        "name",
        "slug",
        "parent",
        "best_fit_ward",
        "svg_path",
        "neighbour_list",
    ]
    fields = [*readonly_fields[:-2], "display_geometry", "neighbour_list"]
    modifiable = False

    @admin.display(description="neighbours")
    def neighbour_list(self, obj: Area) -> str:
        return ", ".join(f"{n.name} ({n.code})" for n in obj.neighbours.order_by("name"))

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        """Nothing on an area is edited here; saving the page changes nothing."""


@admin.register(SaferNeighbourhoodTeam)
class SaferNeighbourhoodTeamAdmin(admin.ModelAdmin):
    list_display = ["name", "ward_code", "borough_name", "phone", "email", "edited_by_staff"]
    list_filter = ["borough_name", "edited_by_staff"]
    search_fields = ["name", "ward_code", "ward_name"]
    readonly_fields = ["ward_code", "policeuk_id", "ward_name", "borough_name", "last_seen"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request, obj, form, change) -> None:
        # A team staff have touched is theirs: the importer no longer overwrites its links.
        obj.edited_by_staff = True
        super().save_model(request, obj, form, change)


@admin.register(Postcode)
class PostcodeAdmin(admin.ModelAdmin):
    list_display = ["postcode", "lsoa_code", "ward_code", "borough_code"]
    search_fields = ["postcode", "compact"]
    readonly_fields = ["postcode", "compact", "location", "lsoa_code", "ward_code", "borough_code"]

    def has_add_permission(self, request) -> bool:
        return False
