"""Admin for categories (which are shown, public labels), releases, denominators and raw counts,
and the monthly upload: upload → check → preview → publish, roll back, audit log.

Releases, denominators and counts are written only by the importers, so they are read-only here.
Raw counts are never public: the admin site is staff-only, and viewing them needs the permission.
"""

import errno

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from crimestats.importers.common import max_upload_bytes
from crimestats.models import (
    AuditLog,
    Category,
    CategoryAlias,
    Denominator,
    MonthlyCount,
    Publication,
    Release,
    ReleaseState,
    RollbackJob,
    Upload,
)
from crimestats.services.releases import StateError, rollback_to
from crimestats.services.revisions import file_previews, restated_months
from crimestats.services.rollbacks import can_switch_back, queue_rollback
from crimestats.services.uploads import (
    KINDS,
    acknowledge,
    needs_acknowledgement,
    receive_uploaded_files,
    request_publish,
)


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
    """The "shown" flag is what staff want: the public sees a change from the next publish."""

    list_display = ["__str__", "label", "shown", "public_now", "denominator"]
    list_editable = ["label", "shown"]
    list_filter = ["shown", ("parent", admin.EmptyFieldListFilter)]
    search_fields = ["name", "label"]
    readonly_fields = ["name", "slug", "parent", "public_now"]
    fields = ["name", "parent", "slug", "shown", "public_now", "label", "denominator"]
    inlines = [CategoryAliasInline]

    def has_add_permission(self, request) -> bool:
        return False  # categories come from the files, exactly as named there

    def get_queryset(self, request):
        in_current = Publication.categories.through.objects.filter(
            publication__is_current=True, category=OuterRef("pk")
        )
        return super().get_queryset(request).annotate(on_site=Exists(in_current))

    @admin.display(description="on the site now", boolean=True)
    def public_now(self, obj: Category) -> bool:
        """In the current publication: what the public sees, whatever the flag says."""
        return obj.on_site

    def save_model(self, request, obj: Category, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if "shown" in form.changed_data:
            messages.info(
                request,
                f"“{obj}” will be {'shown' if obj.shown else 'hidden'} from the next publish "
                "(an upload published, or load_london); the public site is unchanged until then.",
            )


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


# Monthly uploads -----------------------------------------------------------------------------


DISK_FULL = (
    "The server's disk is full: the file was not stored and nothing changed. Tell the site's "
    'operator (docs/operations.md, "Disk full"), then upload it again.'
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class UploadForm(forms.Form):
    files = MultipleFileField(
        help_text="CSV files (or a zip of CSVs), or one boundary file (a zipped shapefile, "
        "GeoJSON, GeoPackage or KML). Files sent together are checked and published as one: "
        "a month's MPS files (LSOA, ward and borough) with any police.uk months, or the census "
        "files (Nomis TS007A and TS054).",
    )
    kind = forms.ChoiceField(
        choices=KINDS,
        initial=Upload.Kind.AUTO,
        help_text="Detected from the header unless you choose.",
    )


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    """Upload → checked in the background → preview → publish; every step needs its permission."""

    list_display = ["file_name", "status", "detected", "rows", "error_count", "uploaded_by"]
    list_filter = ["status", "kind"]
    search_fields = ["file_name", "checksum"]
    date_hierarchy = "created_at"

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/errors.csv", wrap(self.errors_csv), name="crimestats_upload_errors"),
            path("<int:pk>/publish/", wrap(self.publish_view), name="crimestats_upload_publish"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                uploads = receive_uploaded_files(
                    files=form.cleaned_data["files"],
                    user=request.user,
                    kind=form.cleaned_data["kind"],
                )
            except OSError as error:
                if error.errno not in (errno.ENOSPC, errno.EDQUOT):
                    raise
                form.add_error(None, DISK_FULL)
            else:
                if len(uploads) == 1:
                    return redirect("admin:crimestats_upload_change", uploads[0].pk)
                messages.info(request, f"{len(uploads)} uploads received; each is checked in turn.")
                return redirect("admin:crimestats_upload_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload data files",
            "form": form,
            "opts": self.model._meta,
            "limit_mb": max_upload_bytes() // (1024 * 1024),
        }
        return TemplateResponse(request, "admin/crimestats/upload/add.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        upload = get_object_or_404(Upload, pk=object_id)
        if not self.has_view_permission(request, upload):
            raise PermissionDenied
        preview = upload.preview or {}
        context = {
            **self.admin_site.each_context(request),
            "title": f"Upload: {upload.file_name}",
            "upload": upload,
            "opts": self.model._meta,
            "preview": preview,
            "needs_ack": needs_acknowledgement(upload),
            "can_publish": request.user.has_perm("crimestats.publish_upload"),
            "months_restated": restated_months(upload),
            "not_shown": [p["not_shown"] for p in file_previews(upload) if p.get("not_shown")],
            "Status": Upload.Status,
        }
        return TemplateResponse(request, "admin/crimestats/upload/detail.html", context)

    def errors_csv(self, request, pk: int):
        upload = get_object_or_404(Upload, pk=pk)
        if not self.has_view_permission(request, upload):
            raise PermissionDenied
        response = HttpResponse(upload.errors_csv, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="upload-{upload.pk}-errors.csv"'
        return response

    def publish_view(self, request, pk: int):
        if not request.user.has_perm("crimestats.publish_upload"):
            raise PermissionDenied
        if request.method != "POST":
            return redirect("admin:crimestats_upload_change", pk)
        upload = get_object_or_404(Upload, pk=pk)
        try:
            if request.POST.get("acknowledge"):
                acknowledge(upload, user=request.user)
            request_publish(upload, user=request.user, note=request.POST.get("revision_note", ""))
        except StateError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, "Queued for publishing: this page shows when it is done.")
        return redirect("admin:crimestats_upload_change", pk)


@admin.register(ReleaseState)
class ReleaseStateAdmin(ReadOnlyAdmin):
    """Earlier states of the site's data; rolling back to one makes it public again."""

    list_display = ["created_at", "note", "publication", "created_by", "is_current", "rollback"]
    list_select_related = ["publication", "created_by"]

    @admin.display(boolean=True, description="public now")
    def is_current(self, obj: ReleaseState) -> bool:
        return bool(obj.publication and obj.publication.is_current) and obj == (
            ReleaseState.objects.first()
        )

    @admin.display(description="")
    def rollback(self, obj: ReleaseState) -> str:
        url = reverse("admin:crimestats_releasestate_rollback", args=[obj.pk])
        return format_html('<a href="{}">Roll back to this</a>', url)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/rollback/",
                wrap(self.rollback_view),
                name="crimestats_releasestate_rollback",
            ),
            path(
                "rollback-job/<int:pk>/",
                wrap(self.rollback_job_view),
                name="crimestats_releasestate_rollback_job",
            ),
            *super().get_urls(),
        ]

    def rollback_view(self, request, pk: int):
        if not request.user.has_perm("crimestats.rollback_release"):
            raise PermissionDenied
        state = get_object_or_404(ReleaseState, pk=pk)
        if request.method == "POST" and not can_switch_back(state):
            # A rebuild outlasts a web request: the worker runs it, this page follows it.
            job = queue_rollback(state=state, user=request.user)
            return redirect("admin:crimestats_releasestate_rollback_job", job.pk)
        if request.method == "POST":
            try:
                rollback_to(state=state, user=request.user, log=lambda _: None)
            except StateError as error:
                messages.error(request, f"Rollback failed, nothing changed: {error}")
            else:
                messages.success(request, f"Rolled back to: {state.note}")
            return redirect("admin:crimestats_releasestate_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Roll back",
            "state": state,
            "rebuild": not can_switch_back(state),
            "opts": self.model._meta,
            "releases": Release.objects.filter(pk__in={row[4] for row in state.current_months}),
        }
        return TemplateResponse(request, "admin/crimestats/releasestate/rollback.html", context)

    def rollback_job_view(self, request, pk: int):
        if not request.user.has_perm("crimestats.rollback_release"):
            raise PermissionDenied
        job = get_object_or_404(RollbackJob.objects.select_related("state"), pk=pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "Rollback",
            "job": job,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/crimestats/releasestate/rollback_job.html", context)


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "username", "action", "file_name", "checksum", "counts"]
    list_filter = ["action"]
    search_fields = ["username", "file_name", "checksum"]
    date_hierarchy = "at"
