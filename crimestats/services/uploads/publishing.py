"""Publishing: write a checked upload's release(s) and switch the site to a publication built
with them, in one transaction under the publish lock."""

import logging
import time
from collections.abc import Callable
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from areas.importers.errors import UploadError
from areas.importers.snt import import_snt_teams
from crimestats.importers.census import import_census
from crimestats.importers.common import ImportResult
from crimestats.importers.mps import import_mps_file
from crimestats.importers.policeuk import import_policeuk_file
from crimestats.models import AuditLog, Revision, Upload
from crimestats.selectors import read_current_publication
from crimestats.services.boundaries import publish_boundary_upload
from crimestats.services.publish import build_publication
from crimestats.services.releases import (
    StateError,
    audit,
    ensure_baseline,
    fingerprint,
    lock_publishing,
    record_state,
    refresh_caches,
)
from crimestats.services.revisions import note_required, record_revision, restated_months
from crimestats.services.uploads.files import CRIME, bundle_files, is_bundle, member_kind
from crimestats.services.uploads.receiving import known_user

Status = Upload.Status
SNT = Upload.Kind.SNT
logger = logging.getLogger(__name__)


def needs_acknowledgement(upload: Upload) -> bool:
    return bool(upload.warnings or upload.new_categories) and upload.acknowledged_at is None


def acknowledge(upload: Upload, *, user) -> None:
    upload.acknowledged_by = known_user(user)
    upload.acknowledged_at = timezone.now()
    upload.save(update_fields=["acknowledged_by", "acknowledged_at", "updated_at"])
    audit(
        user=user,
        action=AuditLog.Action.ACKNOWLEDGE,
        upload=upload,
        counts={"warnings": len(upload.warnings), "new_categories": len(upload.new_categories)},
        detail="; ".join(upload.warnings + upload.new_categories)[:2000],
    )


def request_publish(upload: Upload, *, user, note: str | None = None) -> None:
    """Queue a checked upload for publishing (the worker does it).

    ``note`` is the revision note the releases page shows. The admin form always sends one,
    and it must not be empty when the file restates published months; a scripted publish
    (``import_file --note``, tests) may leave it out.
    """
    if upload.status != Status.VALID:
        raise StateError(f"only a checked upload can be published (this one is {upload.status})")
    if needs_acknowledgement(upload):
        raise StateError("acknowledge the warnings (and new categories) first")
    not_shown = [p["not_shown"] for p in checked_against(upload) if p.get("not_shown")]
    if not_shown:
        raise StateError(not_shown[0])
    if note is not None and not note.strip() and note_required(upload):
        months = [m[:7] for m in restated_months(upload)]
        span = months[0] if len(months) == 1 else f"{months[0]} to {months[-1]}"
        raise StateError(
            f"write a revision note: this file restates {len(months)} published month"
            f"{'s' if len(months) != 1 else ''} ({span}), and the releases page tells the "
            "public why the figures changed"
        )
    note = (note or "").strip()[:4000]
    updated = Upload.objects.filter(pk=upload.pk, status=Status.VALID).update(
        status=Status.PUBLISH_QUEUED,
        published_by=known_user(user),
        revision_note=note,
        message="waiting to be published",
    )
    if not updated:
        raise StateError("this upload is already being published")
    upload.refresh_from_db()


def _import_crime(path: Path, *, kind: str, user, log) -> ImportResult:
    if kind == Upload.Kind.MPS:
        return import_mps_file(path=path, user=user, log=log, progress=False)
    return import_policeuk_file(path=path, user=user, log=log, progress=False)


def _import_bundle(path: Path, *, kind: str, user, log, name: str) -> ImportResult:
    """Every file of a bundle (see check_crime_files): one result for all of them."""
    result = ImportResult(file=name, created=True)
    with bundle_files(path) as paths:
        for member in paths:
            one = _import_crime(member, kind=member_kind(member, kind=kind), user=user, log=log)
            if not one.created:
                raise StateError(f"{one.file} is already loaded: nothing to publish")
            result.releases += one.releases
            result.rows_read += one.rows_read
            result.counts_written += one.counts_written
            result.warnings += [f"{one.file}: {warning}" for warning in one.warnings]
            result.new_categories += one.new_categories
    return result


def checked_against(upload: Upload) -> list[dict]:
    """The previews an upload was checked against: one per file of a bundle."""
    preview = upload.preview or {}
    return preview["files"] if preview.get("bundle") else [preview]


def _import(upload: Upload, *, user, log) -> ImportResult | None:
    path = Path(upload.file.path)
    if is_bundle(upload) and upload.kind in CRIME:
        return _import_bundle(path, kind=upload.kind, user=user, log=log, name=upload.file_name)
    if upload.kind == Upload.Kind.MPS:
        return import_mps_file(path=path, user=user, log=log, progress=False)
    if upload.kind == Upload.Kind.POLICE_UK:
        return import_policeuk_file(path=path, user=user, log=log, progress=False)
    if upload.kind == Upload.Kind.CENSUS:
        with bundle_files(path) as paths:
            import_census(paths=paths, log=log, progress=False)
        return None
    if upload.kind == SNT:
        import_snt_teams(path=path, log=log)
        return None
    if upload.kind == Upload.Kind.BOUNDARIES:
        publish_boundary_upload(path=path, preview=upload.preview, log=log)
        return None
    raise StateError(f"cannot publish an upload of kind {upload.kind!r}")


def publish_upload(upload: Upload, *, user=None, log: Callable[[str], None] = print) -> Upload:
    """Write the upload's release(s) and switch the site to a publication built with them.

    One transaction under the publish lock: the data this preview was made against must be
    unchanged (else the upload must be checked again), and any failure leaves the site as it was.
    """
    user = user or upload.published_by
    upload.status = Status.PUBLISHING
    upload.save(update_fields=["status", "updated_at"])
    lines: list[str] = []

    def note(text: str) -> None:
        lines.append(text)
        log(text)

    try:
        with transaction.atomic():
            lock_publishing()
            for preview in checked_against(upload):
                if preview.get("fingerprint") and preview["fingerprint"] != fingerprint(
                    source=preview["source"], force=preview["force"], level=preview["level"]
                ):
                    raise StateError(
                        "the current data changed since this upload was checked (another "
                        "publish or a rollback): check it again before publishing"
                    )
            ensure_baseline(user=user)
            replaced = read_current_publication()
            started = time.perf_counter()
            result = _import(upload, user=user, log=note)
            written = time.perf_counter()
            if result is not None and not result.created:
                raise StateError("this file is already loaded: nothing to publish")
            # Team details are not figures: only data uploads need a new publication.
            publication = None if upload.kind == SNT else build_publication(user=user, log=note)
            built = time.perf_counter()
            if publication is not None:
                record_state(user=user, note=f"published {upload.file_name} (upload {upload.pk})")
                record_revision(
                    kind=Revision.Kind.PUBLISH,
                    publication=publication,
                    replaced=replaced,
                    upload=upload,
                    note=upload.revision_note,
                    user=user,
                )
            if result is not None:
                upload.releases.set(result.releases)
            upload.status = Status.PUBLISHED
            files = len(checked_against(upload))
            what = f"{result.counts_written if result else 0:,} counts written" + (
                f" from {files} files" if files > 1 else ""
            )
            if upload.kind == SNT:
                upload.message = "published: the team list is updated"
            elif publication is None:  # e.g. City months before any Met figures are loaded
                upload.message = f"published: {what}; nothing to publish on the site yet"
            else:
                upload.message = f"published: {what}; publication {publication.pk} is now public"
            upload.save()
            audit(
                user=user,
                action=AuditLog.Action.PUBLISH,
                upload=upload,
                counts={
                    "rows": upload.rows,
                    "counts_written": result.counts_written if result else 0,
                    "releases": [r.pk for r in result.releases] if result else [],
                    "publication": publication.pk if publication else None,
                    "write_seconds": round(written - started, 2),
                    "build_seconds": round(built - written, 2),
                },
                detail="\n".join(lines)[:4000],
            )
            refresh_caches()
    except Exception as error:
        Upload.objects.filter(pk=upload.pk).update(
            status=Status.FAILED,
            message=f"publishing failed, nothing changed: {error}"[:4000],
        )
        upload.refresh_from_db()
        audit(
            user=user,
            action=AuditLog.Action.PUBLISH_FAILED,
            upload=upload,
            detail=f"{type(error).__name__}: {error}"[:4000],
        )
        if not isinstance(error, StateError | UploadError):
            logger.exception("publishing upload %s failed", upload.pk)
    return upload
