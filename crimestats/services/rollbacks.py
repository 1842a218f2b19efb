"""Rollbacks from the admin: a switch back to a kept publication is one UPDATE and runs at once;
one that must rebuild the publication takes minutes, longer than a web request may, so it is
queued as a RollbackJob for the upload worker, which reports its progress on the job."""

import logging

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from areas.services.boundary_sets import current_sets, sets_current_at
from crimestats.models import ReleaseState, RollbackJob
from crimestats.services.releases import rollback_to

Status = RollbackJob.Status
logger = logging.getLogger(__name__)


def can_switch_back(state: ReleaseState) -> bool:
    """Whether the rollback only switches back to the state's own publication (no rebuild):
    it was built from exactly the state's releases and the boundaries are still those."""
    publication = state.publication
    if publication is None:
        return False
    wanted = {row[4] for row in state.current_months}
    if wanted != set(publication.releases.values_list("id", flat=True)):
        return False
    return sets_current_at(state.created_at) == current_sets()


def queue_rollback(*, state: ReleaseState, user=None) -> RollbackJob:
    """Queue a rollback for the worker (one per state at a time: asking twice is one job)."""
    waiting = RollbackJob.objects.filter(state=state, status__in=[Status.QUEUED, Status.RUNNING])
    return waiting.first() or RollbackJob.objects.create(
        state=state, requested_by=user if user is not None and user.is_authenticated else None
    )


def claim_rollback() -> RollbackJob | None:
    """Take the oldest queued rollback; SKIP LOCKED, so two workers never run the same one."""
    with transaction.atomic():
        job = (
            RollbackJob.objects.select_for_update(skip_locked=True)
            .filter(status=Status.QUEUED)
            .order_by("created_at")
            .first()
        )
        if job is not None:
            RollbackJob.objects.filter(pk=job.pk).update(status=Status.RUNNING)
        return job


def run_rollback(job: RollbackJob) -> RollbackJob:
    """Run one queued rollback; a failure leaves the site as it was and says why.

    Progress lines go through a connection of their own: the rollback is one transaction on
    the worker's, so nothing it writes is visible until it commits, but the admin page should
    show the rebuild moving meanwhile.
    """
    side = connections.create_connection(DEFAULT_DB_ALIAS)

    def log(line: str) -> None:
        with side.cursor() as cursor:
            cursor.execute(
                "UPDATE crimestats_rollbackjob SET progress = progress || %s WHERE id = %s",
                [line.rstrip() + "\n", job.pk],
            )

    try:
        rollback_to(state=job.state, user=job.requested_by, log=log)
    except Exception as error:  # the job must end, whatever went wrong
        logger.exception("rollback job %s failed", job.pk)
        job.status, job.message = Status.FAILED, f"{type(error).__name__}: {error}"[:4000]
    else:
        job.status, job.message = Status.DONE, f"rolled back to: {job.state.note}"
    finally:
        side.close()
    RollbackJob.objects.filter(pk=job.pk).update(status=job.status, message=job.message)
    return job


def process_rollbacks() -> int:
    """Run every queued rollback (the worker's loop calls it beside the upload queue)."""
    done = 0
    while (job := claim_rollback()) is not None:
        run_rollback(job)
        done += 1
    return done


def recover_stale_rollbacks() -> int:
    """A rollback a killed worker left running goes back to the queue: it is one transaction,
    so nothing of it was written."""
    return RollbackJob.objects.filter(status=Status.RUNNING).update(status=Status.QUEUED)
