"""A rollback that must rebuild its publication runs in the upload worker, not in the web request;
the admin queues it and follows it. One that only switches back still runs at once."""

import pytest
from django.urls import reverse

from crimestats.models import Publication, ReleaseState, RollbackJob, Upload
from crimestats.services.publish import build_publication
from crimestats.services.releases import record_state
from crimestats.services.rollbacks import can_switch_back, recover_stale_rollbacks
from crimestats.services.uploads import process_queue, receive_files
from tests.crimestats.test_upload_bundle import checked_and_published, mps_files
from tests.crimestats.uploading import user_in


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def two_states(tiny_london, fixtures_dir) -> tuple[ReleaseState, ReleaseState]:
    """A published upload's state, then a later one (the same releases, rebuilt)."""
    (upload,) = receive_files(files=mps_files(fixtures_dir))
    checked_and_published(upload)
    assert upload.status == Upload.Status.PUBLISHED, upload.message
    first = ReleaseState.objects.order_by("-pk").first()
    build_publication(log=lambda _: None)
    return first, record_state(note="rebuilt")


def current_pk() -> int:
    return Publication.objects.get(is_current=True).pk


def test_a_rollback_that_rebuilds_is_queued_and_the_worker_runs_it(client, two_states):
    first, _ = two_states
    # Its publication is gone from the state: going back to it means rebuilding.
    ReleaseState.objects.filter(pk=first.pk).update(publication=None)
    first.refresh_from_db()
    assert not can_switch_back(first)
    client.force_login(user_in("data uploader"))
    before = current_pk()

    confirm = client.get(reverse("admin:crimestats_releasestate_rollback", args=[first.pk]))
    assert "it is rebuilt: the worker does it" in confirm.content.decode()
    response = client.post(reverse("admin:crimestats_releasestate_rollback", args=[first.pk]))

    job = RollbackJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:crimestats_releasestate_rollback_job", args=[job.pk]
    )
    assert current_pk() == before  # nothing happened in the request
    waiting = client.get(response["Location"]).content.decode()
    assert 'data-status="queued"' in waiting and 'http-equiv="refresh"' in waiting
    # Asking again while it waits is the same job.
    client.post(reverse("admin:crimestats_releasestate_rollback", args=[first.pk]))
    assert RollbackJob.objects.count() == 1

    assert process_queue(log=lambda _: None) == 1  # the burst worker

    job.refresh_from_db()
    assert job.status == RollbackJob.Status.DONE, job.message
    assert current_pk() != before  # rebuilt as a new publication
    done = client.get(response["Location"]).content.decode()
    assert 'data-status="done"' in done and 'http-equiv="refresh"' not in done


def test_a_rollback_that_switches_back_runs_in_the_request(client, two_states):
    first, _ = two_states
    assert can_switch_back(first)
    client.force_login(user_in("data uploader"))

    response = client.post(reverse("admin:crimestats_releasestate_rollback", args=[first.pk]))

    assert response["Location"] == reverse("admin:crimestats_releasestate_changelist")
    assert current_pk() == first.publication_id
    assert not RollbackJob.objects.exists()


def test_a_failed_rollback_job_says_why_and_changes_nothing(two_states):
    first, _ = two_states
    before = current_pk()
    broken = [[*first.current_months[0][:4], 999_999_999]]  # a release that does not exist
    ReleaseState.objects.filter(pk=first.pk).update(publication=None, current_months=broken)
    job = RollbackJob.objects.create(state=first)

    process_queue(log=lambda _: None)

    job.refresh_from_db()
    assert job.status == RollbackJob.Status.FAILED
    assert "999999999" in job.message and "no longer exist" in job.message
    assert current_pk() == before


def test_a_rollback_left_running_by_a_killed_worker_is_queued_again(two_states):
    first, _ = two_states
    job = RollbackJob.objects.create(state=first, status=RollbackJob.Status.RUNNING)

    assert recover_stale_rollbacks() == 1

    job.refresh_from_db()
    assert job.status == RollbackJob.Status.QUEUED
