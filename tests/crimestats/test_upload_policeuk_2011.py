"""A pre-2022 police.uk upload: the preview says how many 2011-coded records were placed by
their coordinates, and shows it on the admin page."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from crimestats.models import Upload
from crimestats.services.uploads import receive_files, validate_upload

pytestmark = [pytest.mark.django_db]

NAME = "2021-06-city-of-london-street.csv"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_preview_counts_records_placed_by_coordinates(
    tiny_london, fixtures_dir, tmp_path, client
):
    path = tmp_path / NAME
    path.write_text((fixtures_dir / NAME).read_text())
    (upload,) = receive_files(files=[(path, NAME)])

    upload = validate_upload(upload)

    assert upload.status == Upload.Status.VALID, upload.message
    assert upload.preview["placed_by_coordinates"] == 3
    assert upload.preview["months_added"] == ["2021-06-01"]
    assert upload.preview["areas_in_file"] == 2  # E01000001 and E01000002
    assert any("placed in current LSOAs by their coordinates" in w for w in upload.warnings)
    client.force_login(User.objects.create_superuser("admin", password="x"))
    page = client.get(reverse("admin:crimestats_upload_change", args=[upload.pk])).content
    assert b"placed in current LSOAs by their coordinates: 3." in page
