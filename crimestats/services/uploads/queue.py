"""The worker's queue: the jobs are the Upload rows themselves, claimed with SKIP LOCKED."""

import logging
from collections.abc import Callable

from django.db import transaction

from crimestats.models import Upload
from crimestats.services.rollbacks import process_rollbacks, recover_stale_rollbacks
from crimestats.services.uploads.checking import validate_upload
from crimestats.services.uploads.publishing import publish_upload

Status = Upload.Status
logger = logging.getLogger(__name__)


def claim_next() -> Upload | None:
    """Take the oldest queued job, so that two workers never run the same one."""
    with transaction.atomic():
        upload = (
            Upload.objects.select_for_update(skip_locked=True)
            .filter(status__in=[Status.QUEUED, Status.PUBLISH_QUEUED])
            .order_by("updated_at")
            .first()
        )
        if upload is None:
            return None
        next_status = Status.VALIDATING if upload.status == Status.QUEUED else Status.PUBLISHING
        Upload.objects.filter(pk=upload.pk).update(status=next_status)
        return upload


def run_job(upload: Upload, *, log: Callable[[str], None] = print) -> Upload:
    if upload.status == Status.QUEUED:
        return validate_upload(upload, user=upload.uploaded_by)
    if upload.status == Status.PUBLISH_QUEUED:
        return publish_upload(upload, user=upload.published_by, log=log)
    return upload


def process_queue(*, log: Callable[[str], None] = print) -> int:
    """Run every queued job (the worker's loop body; tests call it as a burst worker):
    rollbacks that rebuild first (someone is waiting to take figures down), then uploads."""
    done = process_rollbacks()
    while (upload := claim_next()) is not None:
        try:
            run_job(upload, log=log)
        except Exception as error:  # a bug must not stop the worker or leave the job hanging
            logger.exception("upload job %s failed", upload.pk)
            Upload.objects.filter(pk=upload.pk).update(
                status=Status.FAILED, message=f"the check failed unexpectedly: {error}"[:4000]
            )
        done += 1
    return done


def recover_stale_jobs() -> int:
    """Jobs a killed worker left half-done go back to the queue: nothing of theirs was written
    (validation writes no data; publishing is one transaction)."""
    requeued = recover_stale_rollbacks()
    requeued += Upload.objects.filter(status=Status.VALIDATING).update(status=Status.QUEUED)
    return requeued + Upload.objects.filter(status=Status.PUBLISHING).update(
        status=Status.PUBLISH_QUEUED
    )
