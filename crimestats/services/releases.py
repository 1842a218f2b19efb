"""Release states: which release is current for every month, recorded so the site can go back.

Publishing and rolling back both run under one advisory lock, inside one transaction: two admins
acting at once are serialised, and a failure anywhere leaves the previous state public.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import date

from cachalot.api import cachalot_disabled, invalidate
from django.db import connection, transaction

from areas.models import BoundarySet
from areas.services.boundary_sets import current_sets, note_current_sets, sets_current_at
from crimestats.models import (
    AuditLog,
    Category,
    CurrentMonth,
    Publication,
    Release,
    ReleaseState,
    Revision,
)
from crimestats.selectors import read_current_publication, shown_categories
from crimestats.services import denominators
from crimestats.services.boundaries import restore_boundaries
from crimestats.services.publish import build_publication, switch_to
from crimestats.services.revisions import record_revision

# pg_advisory_xact_lock key shared by every publish and rollback ("crmp").
PUBLISH_LOCK = 0x63726D70


class StateError(Exception):
    """A publish or rollback that cannot go ahead; the message says why, for the admin."""


def lock_publishing() -> None:
    """Wait for any other publish or rollback to finish; released when the transaction ends."""
    if not connection.in_atomic_block:
        raise RuntimeError("lock_publishing must run inside transaction.atomic")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PUBLISH_LOCK])


def current_month_rows(**filters) -> list[list]:
    """[source, force, level, month, release id] of every current month, in a stable order.

    Read past the query cache: under the publish lock this must see the last commit, and another
    worker's publish drops its cached queries only after it has committed (and let go the lock).
    """
    with cachalot_disabled():
        rows = list(
            CurrentMonth.objects.filter(**filters)
            .order_by("source", "force", "level", "month")
            .values_list("source", "force", "level", "month", "release_id")
        )
    return [[s, f, lvl, m.isoformat(), r] for s, f, lvl, m, r in rows]


def fingerprint(*, source: str, force: str, level: str) -> str:
    """A short hash of which releases are current for one source, force and level.

    A preview is only valid while this is unchanged: another publish or a rollback of the same
    data makes it stale.
    """
    rows = current_month_rows(source=source, force=force, level=level)
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


def record_state(*, user=None, note: str) -> ReleaseState:
    note_current_sets()  # a rollback to this state restores these boundary sets
    return ReleaseState.objects.create(
        created_by=user if user is not None and user.is_authenticated else None,
        publication=read_current_publication(),
        current_months=current_month_rows(),
        denominators=denominators.current_rows(),
        note=note[:300],
    )


def ensure_baseline(*, user=None) -> None:
    """Record the state as it is now (e.g. after `load_london`) unless it already is."""
    publication = read_current_publication()
    with cachalot_disabled():
        latest = ReleaseState.objects.first()
    if (
        latest is not None
        and latest.current_months == current_month_rows()
        and latest.denominators == denominators.current_rows()
        and latest.publication_id == (publication.pk if publication else None)
        and sets_current_at(latest.created_at) == current_sets()
    ):
        return
    record_state(user=user, note="state before the next publish (as loaded)")


def _restore_current_months(rows: list[list]) -> None:
    release_ids = {row[4] for row in rows}
    existing = set(Release.objects.filter(pk__in=release_ids).values_list("pk", flat=True))
    missing = release_ids - existing
    if missing:
        raise StateError(f"releases {sorted(missing)} of that state no longer exist")
    CurrentMonth.objects.all().delete()
    CurrentMonth.objects.bulk_create(
        [
            CurrentMonth(source=s, force=f, level=lvl, month=date.fromisoformat(m), release_id=r)
            for s, f, lvl, m, r in rows
        ],
        batch_size=5000,
    )


def _reusable(publication: Publication | None) -> bool:
    """An old publication can be switched back to when it was built from the same releases."""
    if publication is None:
        return False
    in_use = set(
        Release.objects.filter(current_months__isnull=False).distinct().values_list("id", flat=True)
    )
    if in_use != set(publication.releases.values_list("id", flat=True)):
        return False
    return not BoundarySet.objects.filter(
        is_current=True, created_at__gt=publication.created_at
    ).exists()


def _categories_of(state: ReleaseState) -> list[Category] | None:
    """The categories a state's publication showed (None: the flags, as for a publish)."""
    if state.publication is None:
        return None
    return shown_categories(state.publication) or None


def refresh_caches() -> None:
    """After commit: drop every cached query, so no page mixes two publications."""
    transaction.on_commit(invalidate)


def rollback_to(
    *, state: ReleaseState, user=None, log: Callable[[str], None] = print
) -> ReleaseState:
    """Make an earlier state current again: its current months and boundary sets, then its
    publication.

    The old publication is switched back to when it matches (fast); otherwise it is rebuilt.
    All in one transaction: if anything fails, the site keeps what it had.
    """
    try:
        with transaction.atomic():
            lock_publishing()
            ensure_baseline(user=user)
            replaced = read_current_publication()
            _restore_current_months(state.current_months)
            try:
                # The sets current when the state was recorded (areas.CurrentSetChange).
                boundaries = restore_boundaries(when=state.created_at, log=log)
            except LookupError as error:
                raise StateError(str(error)) from None
            # The census figures of that state (a census upload is undone like a release).
            census = denominators.restore(state.denominators)
            if _reusable(state.publication):
                switch_to(publication=state.publication)
                how = f"switched back to publication {state.publication.pk}"
            else:
                # Rebuilt with the categories that state showed, whatever the flags say now.
                publication = build_publication(
                    user=user, log=log, categories=_categories_of(state)
                )
                how = f"rebuilt as publication {publication.pk if publication else '-'}"
            new_state = record_state(user=user, note=f"rolled back to state {state.pk}")
            _record_rollback(replaced=replaced, user=user)
            audit(
                user=user,
                action=AuditLog.Action.ROLLBACK,
                counts={
                    "state": state.pk,
                    "current_months": len(state.current_months),
                    "boundaries_restored": boundaries,
                    "denominators_restored": census,
                },
                detail=f"rolled back to state {state.pk} ({state.note}); {how}",
            )
            refresh_caches()
    except Exception as error:
        audit(
            user=user,
            action=AuditLog.Action.ROLLBACK_FAILED,
            counts={"state": state.pk},
            detail=f"{type(error).__name__}: {error}",
        )
        raise
    log(how)
    return new_state


def _record_rollback(*, replaced: Publication | None, user) -> None:
    record_revision(
        kind=Revision.Kind.ROLLBACK,
        publication=read_current_publication(),
        replaced=replaced,
        user=user,
    )


def audit(
    *,
    user=None,
    action: str,
    upload=None,
    file_name: str = "",
    checksum: str = "",
    counts: dict | None = None,
    detail: str = "",
) -> AuditLog:
    known = user is not None and user.is_authenticated
    return AuditLog.objects.create(
        user=user if known else None,
        username=user.get_username() if known else "",
        action=action,
        upload=upload,
        file_name=file_name or (upload.file_name if upload else ""),
        checksum=checksum or (upload.checksum if upload else ""),
        counts=counts or {},
        detail=detail,
    )
