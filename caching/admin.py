from django.contrib import admin

from caching.models import PrewarmRun


@admin.register(PrewarmRun)
class PrewarmRunAdmin(admin.ModelAdmin):
    """Read-only: the job writes these; staff watch its progress after a publish or rollback."""

    list_display = (
        "publication_id",
        "phase",
        "done",
        "total",
        "percent",
        "failed",
        "started_at",
        "finished_at",
        "seconds",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
