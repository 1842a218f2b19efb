"""A police.uk file for a force whose police.uk figures the site never shows (the Met's areas
show the Met's own London Datastore figures): the preview says so and nothing can be published."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from crimestats.models import Release, Upload
from crimestats.services.releases import StateError
from crimestats.services.uploads import (
    acknowledge,
    receive_files,
    request_publish,
    validate_upload,
)
from crimestats.sources import MET
from tests.crimestats.test_import_policeuk import HEADER, record

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def checked(tmp_path, text: str, name: str) -> Upload:
    path = tmp_path / name
    path.write_text(text)
    (upload,) = receive_files(files=[(path, name)])
    return validate_upload(upload)


def test_a_met_police_uk_file_previews_nothing_to_publish(tiny_london, tmp_path, client):
    upload = checked(tmp_path, HEADER + record() * 3, "2024-01-metropolitan-street.csv")

    assert upload.status == Upload.Status.VALID, upload.message
    assert "Metropolitan Police Service" in upload.preview["not_shown"]
    assert "nothing to publish" in upload.preview["not_shown"]
    with pytest.raises(StateError, match="never shows police.uk figures for the Met"):
        request_publish(upload, user=None)
    upload.refresh_from_db()
    assert (
        upload.status == Upload.Status.VALID
        and not Release.objects.filter(source="police-uk", force=MET).exists()
    )

    admin = User.objects.create_superuser("admin", password="x")
    client.force_login(admin)
    page = client.get(reverse("admin:crimestats_upload_change", args=[upload.pk])).content
    assert b'id="not-shown"' in page and b'value="Publish"' not in page


def test_a_city_police_uk_file_can_be_published(tiny_london, fixtures_dir, tmp_path):
    text = (fixtures_dir / "2024-01-city-of-london-street.csv").read_text()
    upload = checked(tmp_path, text, "2024-01-city-of-london-street.csv")

    assert upload.status == Upload.Status.VALID and upload.preview["not_shown"] == ""
    acknowledge(upload, user=None)  # the fixture file has warnings of its own
    request_publish(upload, user=None)
    assert upload.status == Upload.Status.PUBLISH_QUEUED
