"""A month's files sent together (MPS LSOA, ward and borough; police.uk months) are one upload:
checked together, previewed together, published as ONE publication, rolled back in one step."""

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from crimestats.models import AuditLog, CurrentMonth, Publication, Release, ReleaseState, Upload
from crimestats.services.releases import current_month_rows, rollback_to
from crimestats.services.uploads import (
    acknowledge,
    process_queue,
    publish_upload,
    receive_files,
    receive_upload,
    request_publish,
    validate_upload,
)
from tests.crimestats.uploading import user_in

MPS = ("mps_lsoa.csv", "mps_ward.csv", "mps_borough.csv")
CITY = "2024-01-city-of-london-street.csv"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def mps_files(fixtures_dir: Path) -> list[tuple[Path, str]]:
    return [(fixtures_dir / name, name) for name in MPS]


def written() -> tuple[int, int, int]:
    """What only publishing may change: releases, publications, current months."""
    return Release.objects.count(), Publication.objects.count(), CurrentMonth.objects.count()


def checked_and_published(upload: Upload) -> Upload:
    validate_upload(upload)
    assert upload.status == Upload.Status.VALID, upload.message
    if upload.warnings or upload.new_categories:
        acknowledge(upload, user=None)
    request_publish(upload, user=None)
    return publish_upload(upload, log=lambda _: None)


def test_three_mps_files_selected_at_once_are_one_upload_and_one_publication(
    client, tiny_london, fixtures_dir
):
    client.force_login(user_in("data uploader"))
    files = [SimpleUploadedFile(name, path.read_bytes()) for path, name in mps_files(fixtures_dir)]
    before = written()

    response = client.post(reverse("admin:crimestats_upload_add"), {"files": files, "kind": "auto"})
    process_queue(log=lambda _: None)

    upload = Upload.objects.get()
    assert response["Location"] == reverse("admin:crimestats_upload_change", args=[upload.pk])
    assert upload.status == Upload.Status.VALID, upload.message
    assert (upload.kind, upload.file_name) == ("mps", " + ".join(MPS))
    assert upload.rows == 6 + 5 + 5
    assert upload.detected == (
        "3 files: mps / Metropolitan Police Service / lsoa, ward, borough, 2024-01 to 2024-04"
    )
    preview = upload.preview
    assert preview["bundle"] is True
    assert [(f["file"], f["level"], f["months_added"]) for f in preview["files"]] == [
        ("mps_lsoa.csv", "lsoa", ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]),
        ("mps_ward.csv", "ward", ["2024-02-01", "2024-03-01", "2024-04-01"]),
        ("mps_borough.csv", "borough", ["2024-01-01", "2024-02-01", "2024-03-01"]),
    ]
    assert preview["months_added"] == ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]
    # Warnings say which file they are about.
    assert "mps_borough.csv: 'Unknown' is not a borough: its 3 crimes count in London only" in (
        upload.warnings
    )
    assert written() == before  # checking writes nothing
    page = client.get(response["Location"]).content.decode()
    assert 'id="preview-files"' in page and page.count('value="Publish"') == 1
    for n, name in enumerate(MPS, start=1):
        assert f'<a href="#file-{n}">{name}</a>' in page
        assert f'id="file-{n}-preview-months"' in page

    client.post(reverse("admin:crimestats_upload_publish", args=[upload.pk]), {"acknowledge": "1"})
    jobs = process_queue(log=lambda _: None)

    upload.refresh_from_db()
    assert jobs == 1 and upload.status == Upload.Status.PUBLISHED, upload.message
    assert "from 3 files" in upload.message
    assert Publication.objects.count() == before[1] + 1  # ONE publication for the three
    assert sorted(upload.releases.values_list("level", flat=True)) == [
        "borough",
        "lsoa",
        "region",
        "ward",
    ]
    current = {(row[2], row[3]) for row in current_month_rows()}
    assert {("lsoa", "2024-04-01"), ("ward", "2024-02-01"), ("region", "2024-03-01")} <= current
    assert AuditLog.objects.filter(upload=upload, action="publish").count() == 1


def test_one_rollback_undoes_the_whole_set(tiny_london, fixtures_dir):
    (upload,) = receive_files(files=mps_files(fixtures_dir))
    checked_and_published(upload)
    assert upload.status == Upload.Status.PUBLISHED, upload.message
    states = list(ReleaseState.objects.order_by("pk"))
    # The state before (recorded as the baseline) and the state after: nothing in between.
    assert [s.current_months == [] for s in states[-2:]] == [True, False]

    rollback_to(state=states[-2], log=lambda _: None)

    assert current_month_rows() == []
    assert Release.objects.filter(uploads=upload).count() == 4  # kept, for rolling forward


def test_a_bad_file_rejects_the_set_with_every_error_and_writes_nothing(
    tiny_london, fixtures_dir, tmp_path
):
    ward = tmp_path / "ward.csv"
    ward.write_text((fixtures_dir / "mps_ward.csv").read_text().replace(",0,5,1", ",0,x,1"))
    lsoa = tmp_path / "lsoa.csv"
    lsoa.write_text((fixtures_dir / "mps_lsoa.csv").read_text().replace("E01000100", "E01999999"))
    files = [(lsoa, "lsoa.csv"), (ward, "ward.csv"), (fixtures_dir / MPS[2], MPS[2])]
    before = written()

    (upload,) = receive_files(files=files)
    validate_upload(upload)

    assert upload.status == Upload.Status.REJECTED
    assert [(e["file"], e["row"], e["column"], e["value"]) for e in upload.errors] == [
        ("lsoa.csv", 7, "LSOA Code", "E01999999"),
        ("ward.csv", 6, "202403", "x"),
    ]
    assert upload.error_count == 2 and "nothing was written" in upload.message
    assert written() == before


def test_two_files_with_the_same_level_and_month_are_refused(tiny_london, fixtures_dir, tmp_path):
    other = tmp_path / "lsoa-again.csv"
    other.write_text((fixtures_dir / "mps_lsoa.csv").read_text().replace(",5,4,6,3", ",5,4,6,4"))
    files = [(fixtures_dir / "mps_lsoa.csv", "mps_lsoa.csv"), (other, "lsoa-again.csv")]

    (upload,) = receive_files(files=files)
    validate_upload(upload)

    assert upload.status == Upload.Status.REJECTED
    assert upload.errors == [
        {
            "file": "lsoa-again.csv",
            "row": None,
            "column": None,
            "value": "2024-01",
            "reason": "2024-01 of the mps lsoa figures is also in mps_lsoa.csv: send each "
            "level's month in one file only",
        }
    ]


def test_a_failure_while_publishing_leaves_nothing_half_written(
    tiny_london, fixtures_dir, monkeypatch
):
    (upload,) = receive_files(files=mps_files(fixtures_dir))
    before = written()

    def fail(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("crimestats.services.uploads.publishing.build_publication", fail)
    checked_and_published(upload)

    assert upload.status == Upload.Status.FAILED
    assert upload.message == "publishing failed, nothing changed: disk full"
    assert written() == before


def test_a_set_checked_before_another_publish_must_be_checked_again(
    tiny_london, fixtures_dir, tmp_path
):
    (upload,) = receive_files(files=mps_files(fixtures_dir))
    validate_upload(upload)
    acknowledge(upload, user=None)
    ward = tmp_path / "ward.csv"
    ward.write_text((fixtures_dir / "mps_ward.csv").read_text().replace(",0,5,1", ",0,6,1"))
    checked_and_published(receive_upload(path=ward, file_name="ward.csv")[0])
    before = written()

    request_publish(upload, user=None)
    publish_upload(upload, log=lambda _: None)

    assert upload.status == Upload.Status.FAILED
    assert "the current data changed since this upload was checked" in upload.message
    assert written() == before


def test_import_file_checks_and_publishes_the_files_together(tiny_london, fixtures_dir, capsys):
    paths = [str(path) for path, _ in mps_files(fixtures_dir)]
    before = written()

    call_command("import_file", *paths, "--dry-run")
    dry = capsys.readouterr().out
    assert not Upload.objects.exists() and written() == before
    call_command("import_file", *paths, "--publish")

    assert f"{' + '.join(MPS)}: 16 rows, no errors" in dry
    assert "  mps_ward.csv: mps / Metropolitan Police Service / ward, 2024-02 to 2024-04" in dry
    assert "  months added: 2024-02-01, 2024-03-01, 2024-04-01; restated: none" in dry
    upload = Upload.objects.get()
    assert upload.status == Upload.Status.PUBLISHED, upload.message
    assert Publication.objects.count() == before[1] + 1


def test_police_uk_months_sent_together_are_one_publication(tiny_london, fixtures_dir, tmp_path):
    text = (fixtures_dir / CITY).read_text()
    february = tmp_path / "2024-02-city-of-london-street.csv"
    february.write_text(text.replace(",2024-01,", ",2024-02,"))
    files = [(fixtures_dir / CITY, CITY), (february, february.name)]
    checked_and_published(receive_files(files=mps_files(fixtures_dir))[0])  # the Met's first
    before = written()

    (upload,) = receive_files(files=files)
    checked_and_published(upload)

    assert upload.status == Upload.Status.PUBLISHED, upload.message
    assert upload.kind == "police-uk"
    assert [f["months_added"] for f in upload.preview["files"]] == [["2024-01-01"], ["2024-02-01"]]
    assert Publication.objects.count() == before[1] + 1
    city = {(row[2], row[3]) for row in current_month_rows(source="police-uk")}
    assert {("lsoa", "2024-01-01"), ("lsoa", "2024-02-01")} <= city


def test_one_file_alone_is_still_an_upload_of_its_own(tiny_london, fixtures_dir):
    (upload,) = receive_files(files=[(fixtures_dir / "mps_ward.csv", "mps_ward.csv")])

    checked_and_published(upload)

    assert upload.status == Upload.Status.PUBLISHED, upload.message
    assert upload.kind == "mps" and "bundle" not in upload.preview
    assert upload.preview["months_added"] == ["2024-02-01", "2024-03-01", "2024-04-01"]
    assert upload.file.name.endswith("mps_ward.csv")


def test_a_borough_file_again_with_the_same_counts_restates_no_month(
    tiny_london, fixtures_dir, tmp_path, client
):
    """Its "Unknown" rows count in London only: they are no change at borough level."""
    checked_and_published(receive_files(files=mps_files(fixtures_dir))[0])
    again = tmp_path / "borough-crlf.csv"  # the same counts, another checksum
    again.write_bytes((fixtures_dir / "mps_borough.csv").read_bytes().replace(b"\n", b"\r\n"))

    (upload,) = receive_upload(path=again, file_name=again.name)
    validate_upload(upload)

    assert upload.status == Upload.Status.VALID, upload.message
    assert upload.preview["months_restated"] == []
    assert [m["state"] for m in upload.preview["months"]] == ["unchanged"] * 3
    assert upload.preview["areas_affected"] == 0 and upload.preview["largest"] == []
    assert all(not b["changed"] for b in upload.preview["boroughs"])
    client.force_login(User.objects.create_superuser("admin", password="x"))
    page = client.get(reverse("admin:crimestats_upload_change", args=[upload.pk])).content
    assert b"Restated: none." in page and b"areas whose figures change: 0." in page


def test_city_months_before_any_met_figures_say_nothing_is_public_yet(tiny_london, fixtures_dir):
    (upload,) = receive_files(files=[(fixtures_dir / CITY, CITY)])

    checked_and_published(upload)

    assert upload.status == Upload.Status.PUBLISHED, upload.message
    assert upload.message == (
        f"published: {upload.audit.get(action='publish').counts['counts_written']:,} counts "
        "written; nothing to publish on the site yet"
    )
