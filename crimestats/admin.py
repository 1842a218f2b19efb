"""Admin for categories (which are shown, public labels), releases, denominators and raw counts.

Releases, denominators and counts are written only by the importers, so they are read-only here.
Raw counts are never public: the admin site is staff-only, and viewing them needs the permission.
"""

from django.contrib import admin

from crimestats.models import Category, CategoryAlias, Denominator, MonthlyCount, Release


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class CategoryAliasInline(admin.TabularInline):
    model = CategoryAlias
    extra = 0


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["__str__", "label", "shown", "denominator"]
    list_editable = ["label", "shown"]
    list_filter = ["shown", ("parent", admin.EmptyFieldListFilter)]
    search_fields = ["name", "label"]
    readonly_fields = ["name", "slug", "parent"]
    fields = ["name", "parent", "slug", "shown", "label", "denominator"]
    inlines = [CategoryAliasInline]

    def has_add_permission(self, request) -> bool:
        return False  # categories come from the files, exactly as named there


@admin.register(Release)
class ReleaseAdmin(ReadOnlyAdmin):
    list_display = [
        "file_name",
        "source",
        "force",
        "level",
        "first_month",
        "last_month",
        "row_count",
        "warning_count",
        "imported_at",
        "imported_by",
    ]
    list_filter = ["source", "level", "force"]
    search_fields = ["file_name", "checksum"]
    date_hierarchy = "imported_at"

    @admin.display(description="warnings")
    def warning_count(self, obj: Release) -> int:
        return len(obj.warnings)


@admin.register(Denominator)
class DenominatorAdmin(ReadOnlyAdmin):
    list_display = ["area", "residents", "households", "source"]
    list_filter = ["area__level"]
    search_fields = ["area__code", "area__name"]
    list_select_related = ["area"]


@admin.register(MonthlyCount)
class MonthlyCountAdmin(ReadOnlyAdmin):
    list_display = ["area", "category", "month", "count", "release"]
    list_filter = ["area__level", "release__source"]
    search_fields = ["area__code"]
    list_select_related = ["area", "category__parent", "release"]
    show_full_result_count = False  # millions of rows: skip the extra COUNT(*)

    def has_view_permission(self, request, obj=None) -> bool:
        return (
            request.user.is_active
            and request.user.is_staff
            and super().has_view_permission(request, obj)
        )
