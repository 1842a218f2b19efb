"""The monthly cycle on the real LSOA file: upload a changed copy, preview, publish, roll back."""

import csv
import io
from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse

from areas.models import Area, Level
from crimestats.models import (
    AuditLog,
    Category,
    PublishedFigure,
    ReleaseState,
    Revision,
    Upload,
)
from tests.crimestats.uploading import latest_upload, lsoa_file, upload, user_in, written_state

pytestmark = [pytest.mark.london, pytest.mark.django_db]
BUMP = 500


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def changed_copy(tmp_path, *, bump: int = BUMP) -> tuple:
    """The real LSOA file with one cell of its last month raised; returns (path, LSOA, month)."""
    text = lsoa_file().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header = rows[0]
    last = len(header) - 1
    # The LSOA with the most home burglaries that month: a figure well clear of suppression.
    row = max(
        (r for r in rows[1:] if r[3] == "BURGLARY" and r[4] == "RES BURGLARY OF A HOME"),
        key=lambda r: int(r[last]),
    )
    row[last] = str(int(row[last]) + bump)
    code = row[0]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path = tmp_path / "MPS LSOA Level Crime (most recent 24 months).csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    month = date(int(header[last][:4]), int(header[last][4:]), 1)
    return path, code, month


def published_count(area: Area, month: date) -> int | None:
    burglary = Category.objects.get(name="BURGLARY", parent=None)
    return (
        PublishedFigure.objects.filter(
            block__publications__is_current=True,
            area=area,
            category=burglary,
            period="r12",  # rolling 12 months: the default view, published at every level
            end_month=month,
        )
        .values_list("count", flat=True)
        .get()
    )


def page(client, area: Area) -> str:
    response = client.get(area.get_absolute_url() + "?crime=burglary&period=r12")
    assert response.status_code == 200
    return response.content.decode()


def test_upload_preview_publish_and_roll_back(client, london, tmp_path):
    path, code, month = changed_copy(tmp_path)
    area = Area.objects.get(code=code, level=Level.LSOA, boundary_set__is_current=True)
    before = published_count(area, month)
    assert before is not None and f"{before:,}" in page(client, area)
    state_before = written_state()
    client.force_login(user_in("data uploader"))

    response = upload(client, path)

    item = latest_upload()
    assert response.status_code == 302 and item.status == Upload.Status.VALID, item.message
    assert item.kind == "mps" and item.rows == 105_620 and item.error_count == 0
    preview = item.preview
    assert preview["months_restated"] == [month.isoformat()]
    assert preview["months_added"] == [] and preview["areas_affected"] == 1
    assert preview["largest"][0] | {} == {
        "code": code,
        "name": area.name,
        "category": "Burglary",
        "before": preview["largest"][0]["before"],
        "after": preview["largest"][0]["before"] + BUMP,
        "change": BUMP,
    }
    burglary = next(c for c in preview["london"] if c["category"] == "Burglary")
    assert burglary["after"] - burglary["before"] == BUMP
    detail = client.get(reverse("admin:crimestats_upload_change", args=[item.pk]))
    assert detail.status_code == 200 and b"Preview: what publishing changes" in detail.content
    # Nothing public changed by checking it.
    assert written_state() == state_before and published_count(area, month) == before

    assert 'name="revision_note"' in detail.content.decode()
    publish_url = reverse("admin:crimestats_upload_publish", args=[item.pk])
    refused = client.post(publish_url, {"revision_note": "  "}, follow=True)
    said = f"revision note: this file restates 1 published month ({month:%Y-%m})"
    assert said in refused.content.decode()
    item.refresh_from_db()
    assert item.status == Upload.Status.VALID  # not queued without a note
    note = "The Met recorded 500 more home burglaries in one neighbourhood."
    publish = client.post(publish_url, {"revision_note": note})
    assert publish.status_code == 302
    from crimestats.services.uploads import process_queue

    process_queue(log=lambda _: None)

    item.refresh_from_db()
    assert item.status == Upload.Status.PUBLISHED, item.message
    assert published_count(area, month) == before + BUMP
    assert f"{before + BUMP:,}" in page(client, area)
    assert AuditLog.objects.filter(upload=item, action="publish").exists()
    published = written_state()[2]

    # The releases page: the note, the restated month and London's burglary total moved by BUMP.
    releases = client.get("/releases/").content.decode()
    assert note in releases and f"{month:%Y-%m}" in releases
    restated = Revision.objects.get(upload=item).changes["restated"]
    assert [(r["level"], r["months"]) for r in restated] == [("lsoa", [month.isoformat()])]
    london = {row["category"]: row for row in restated[0]["london"]}
    assert london["Burglary"]["after"] - london["Burglary"]["before"] == BUMP
    assert all(row["after"] == row["before"] for name, row in london.items() if name != "Burglary")
    assert [b["code"] for b in restated[0]["boroughs"]] == [area.parent.code]
    detail_page = client.get(f"/releases/{published}/").content.decode()
    assert f"+{BUMP:,}" in detail_page and area.parent.name in detail_page
    # The area's feed says old and new; its "what changed" file has the same cells.
    feed = client.get(area.get_absolute_url() + "feed.atom").content.decode()
    assert f"Burglary, 12 months to {month:%B %Y}: was {before:,}, now {before + BUMP:,}." in feed
    changes = b"".join(client.get(f"/data/{published}/changes.csv").streaming_content).decode()
    cells = f"{before},exact,{before + BUMP},exact,{BUMP}"
    assert f"{code},{area.name},lsoa,burglary,r12,{month:%Y-%m},{cells}" in changes

    earlier = ReleaseState.objects.filter(publication_id=state_before[2]).order_by("pk").last()
    confirm = client.get(reverse("admin:crimestats_releasestate_rollback", args=[earlier.pk]))
    assert confirm.status_code == 200
    done = client.post(reverse("admin:crimestats_releasestate_rollback", args=[earlier.pk]))

    assert done.status_code == 302
    assert published_count(area, month) == before
    assert f"{before:,}" in page(client, area)
    current = written_state()
    assert current[2] == state_before[2]  # the very same publication is public again
    assert AuditLog.objects.filter(action="rollback").exists()
    # The rollback is an entry of its own; the withdrawn figures stay downloadable.
    assert Revision.objects.filter(kind="rollback", publication_id=current[2]).exists()
    assert "were withdrawn and the site returned to" in client.get("/releases/").content.decode()
    region = client.get(f"/data/{published}/region.geojson")
    assert region.status_code == 200 and b"".join(region.streaming_content).startswith(b"{")


def test_import_file_dry_run_checks_without_writing(london, tmp_path, capsys):
    path, _, month = changed_copy(tmp_path, bump=1)
    state = written_state()

    call_command("import_file", str(path), "--dry-run")

    out = capsys.readouterr().out
    assert "105,620 rows, no errors" in out
    assert f"restated: {month.isoformat()}" in out
    assert written_state() == state and not Upload.objects.exists()


def test_team_list_upload_updates_teams_without_a_new_publication(client, london):
    from django.conf import settings

    from areas.models import SaferNeighbourhoodTeam

    path = settings.CRIMEMAP_DATA_DIR / "neighbourhoods" / "met_snt_neighbourhoods_679.csv"
    state = written_state()
    client.force_login(user_in("data uploader"))

    upload(client, path)

    item = latest_upload()
    assert item.status == Upload.Status.VALID, item.message
    assert item.kind == "snt" and item.preview["teams"] == 679
    page = client.get(reverse("admin:crimestats_upload_change", args=[item.pk])).content.decode()
    assert "679 teams in the file" in page and "preview-months" not in page
    client.post(reverse("admin:crimestats_upload_publish", args=[item.pk]))
    from crimestats.services.uploads import process_queue

    process_queue(log=lambda _: None)
    item.refresh_from_db()
    assert item.status == Upload.Status.PUBLISHED, item.message
    assert SaferNeighbourhoodTeam.objects.count() >= 679
    assert written_state() == state  # figures untouched: same publication


def test_several_police_uk_months_in_one_zip(client, london, tmp_path):
    import zipfile

    from tests.crimestats.uploading import city_file

    archive = tmp_path / "city.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for month in ("2025-01", "2025-02"):
            out.write(city_file(month), f"city/{city_file(month).name}")
    client.force_login(user_in("data uploader"))

    uploads_before = Upload.objects.count()

    response = upload(client, archive)

    assert response.status_code == 302
    # One upload for the two months (checked and published together), named after the zip.
    assert Upload.objects.count() == uploads_before + 1
    item = latest_upload()
    assert (item.file_name, item.status) == ("city.zip", Upload.Status.REJECTED)
    # Both months are already loaded by the London load: each is told so, by name.
    assert [e["file"] for e in item.errors] == [city_file(m).name for m in ("2025-01", "2025-02")]
    assert all("already loaded" in e["reason"] for e in item.errors), item.errors


def test_police_uk_2011_codes_are_reported_with_their_number_and_month(client, london, tmp_path):
    from tests.crimestats.uploading import city_file

    lines = city_file("2023-01").read_text(encoding="utf-8-sig").splitlines()
    moved = [lines[0]] + [line.replace(",2023-01,", ",2030-01,", 1) for line in lines[1:]]
    path = tmp_path / "2030-01-city-of-london-street.csv"
    path.write_text("\n".join(moved) + "\n")
    client.force_login(user_in("data uploader"))

    upload(client, path)

    item = latest_upload()
    assert item.status == Upload.Status.VALID, item.message
    # Its one record with a 2011-only code (E01004027, Southwark 003E) is placed by its
    # coordinates in Southwark's E01033884: the Met's area, so it is not stored.
    assert (
        "2030-01: 1 record with 2011 LSOA codes not in the current (2021) set placed in current "
        "LSOAs by their coordinates (0 stored, 1 in LSOAs policed by another force)"
        in item.warnings
    )
    assert item.preview["placed_by_coordinates"] == 0
    assert item.preview["months_added"] == ["2030-01-01"]
    page = client.get(reverse("admin:crimestats_upload_change", args=[item.pk])).content.decode()
    assert "I have read the warnings" in page
