"""Census uploads in the Nomis layout: one table alone, or TS007A and TS054 sent together."""

import csv
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from areas.models import Area, Level
from crimestats.models import AuditLog, Denominator, Upload
from crimestats.services.uploads import (
    process_queue,
    publish_upload,
    receive_upload,
    request_publish,
    validate_upload,
)
from tests.crimestats.factories import LSOAS
from tests.crimestats.uploading import user_in

AGE_TOTAL = "Age: Total"
ALL_HOUSEHOLDS = "Tenure of household: Total: All households"
TS007A = "census2021-ts007a-lsoa.csv"
TS054 = "census2021-ts054-lsoa.csv"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def nomis_text(measure_column: str, values: dict[str, int]) -> str:
    """A tiny file in the Nomis bulk layout, with a row outside London that must be skipped."""
    lines = [f"date,geography,geography code,{measure_column},Other: Something"]
    lines += [f"2021,{LSOAS[code][0]},{code},{n},0" for code, n in values.items()]
    lines.append("2021,Isle of Anglesey 001A,W01000001,1400,0")
    return "\r\n".join(lines) + "\r\n"


def residents_and_households() -> tuple[dict[str, int], dict[str, int]]:
    return (
        {code: 1000 + 7 * i for i, code in enumerate(LSOAS)},
        {code: 400 + 3 * i for i, code in enumerate(LSOAS)},
    )


def zip_of(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(f"census/{name}", text)
    return path


def denominators() -> dict[str, tuple[int, int]]:
    current = Denominator.objects.filter(area__boundary_set__is_current=True)
    return {d.area.code: (d.residents, d.households) for d in current.select_related("area")}


def check_and_publish(upload: Upload) -> Upload:
    validate_upload(upload)
    assert upload.status == Upload.Status.VALID, upload.message
    request_publish(upload, user=None)
    return publish_upload(upload, log=lambda _: None)


def test_the_pair_in_a_zip_is_one_upload_published_together(tiny_london, tmp_path):
    Denominator.objects.all().delete()
    residents, households = residents_and_households()
    path = zip_of(
        tmp_path / "census.zip",
        {TS007A: nomis_text(AGE_TOTAL, residents), TS054: nomis_text(ALL_HOUSEHOLDS, households)},
    )

    uploads = receive_upload(path=path, file_name="census.zip")

    assert len(uploads) == 1
    upload = uploads[0]
    assert (upload.kind, upload.file_name) == (Upload.Kind.CENSUS, "census.zip")
    validate_upload(upload)
    assert upload.status == Upload.Status.VALID, upload.message
    assert not Denominator.objects.exists()  # checking writes nothing
    london = (sum(residents.values()), sum(households.values()))
    assert upload.preview["files"] == [TS007A, TS054]
    assert upload.preview["kept"] == []
    assert upload.preview["london_before"] is None
    assert upload.preview["london_after"] == list(london)
    assert [(m["measure"], m["after"], m["lsoas_changed"]) for m in upload.preview["measures"]] == [
        ("residents", london[0], 5),
        ("households", london[1], 5),
    ]

    request_publish(upload, user=None)
    publish_upload(upload, log=lambda _: None)

    assert upload.status == Upload.Status.PUBLISHED, upload.message
    after = denominators()
    assert {c: after[c] for c in LSOAS} == {c: (residents[c], households[c]) for c in LSOAS}
    assert after["E12000007"] == london
    assert after["E09000002"] == (
        residents["E01000006"] + residents["E01000007"],
        households["E01000006"] + households["E01000007"],
    )
    assert "W01000001" not in after
    assert AuditLog.objects.filter(upload=upload, action=AuditLog.Action.PUBLISH).count() == 1


def test_the_pair_selected_at_once_in_the_form_is_one_upload(client, tiny_london):
    Denominator.objects.all().delete()
    residents, households = residents_and_households()
    client.force_login(user_in("data uploader"))
    files = [
        SimpleUploadedFile(TS007A, nomis_text(AGE_TOTAL, residents).encode()),
        SimpleUploadedFile(TS054, nomis_text(ALL_HOUSEHOLDS, households).encode()),
    ]

    response = client.post(reverse("admin:crimestats_upload_add"), {"files": files, "kind": "auto"})
    process_queue(log=lambda _: None)

    upload = Upload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:crimestats_upload_change", args=[upload.pk])
    assert upload.status == Upload.Status.VALID, upload.message
    assert upload.file_name == f"{TS007A} + {TS054}"
    page = client.get(response["Location"]).content.decode()
    assert f"<td>{sum(residents.values())}</td>" in page
    assert f"<td>{sum(households.values())}</td>" in page


def test_one_nomis_file_replaces_its_measure_and_keeps_the_other(tiny_london, tmp_path):
    residents, households = residents_and_households()
    first = zip_of(
        tmp_path / "first.zip",
        {TS007A: nomis_text(AGE_TOTAL, residents), TS054: nomis_text(ALL_HOUSEHOLDS, households)},
    )
    check_and_publish(receive_upload(path=first, file_name="first.zip")[0])
    new_households = {code: n + 50 for code, n in households.items()}
    new_households["E01000001"] = households["E01000001"]  # one LSOA unchanged
    path = tmp_path / TS054
    path.write_text(nomis_text(ALL_HOUSEHOLDS, new_households))

    upload = receive_upload(path=path, file_name=TS054)[0]
    validate_upload(upload)

    assert upload.status == Upload.Status.VALID, upload.message
    assert upload.detected == "Census 2021 denominators (residents kept)"
    london_before = [sum(residents.values()), sum(households.values())]
    london_after = [sum(residents.values()), sum(new_households.values())]
    assert (upload.preview["london_before"], upload.preview["london_after"]) == (
        london_before,
        london_after,
    )
    assert [(m["measure"], m["kept"], m["lsoas_changed"]) for m in upload.preview["measures"]] == [
        ("residents", True, 0),
        ("households", False, 4),
    ]
    request_publish(upload, user=None)
    publish_upload(upload, log=lambda _: None)
    assert upload.status == Upload.Status.PUBLISHED, upload.message
    after = denominators()
    assert {c: after[c] for c in LSOAS} == {c: (residents[c], new_households[c]) for c in LSOAS}
    assert after["E12000007"] == tuple(london_after)


def test_one_nomis_file_without_the_other_measure_is_rejected(tiny_london, tmp_path):
    Denominator.objects.all().delete()
    residents, _ = residents_and_households()
    path = tmp_path / TS007A
    path.write_text(nomis_text(AGE_TOTAL, residents))

    upload = receive_upload(path=path, file_name=TS007A)[0]
    validate_upload(upload)

    assert upload.status == Upload.Status.REJECTED
    assert upload.errors == [
        {
            "file": TS007A,
            "row": None,
            "column": "households",
            "value": ", ".join(sorted(LSOAS)),
            "reason": "the upload gives no households figures, and there is no current "
            "households figure for 5 current LSOAs to keep: upload Nomis table TS054 (tenure: "
            "'All households') together with this file (both in one zip, or both selected at "
            "once)",
        }
    ]
    assert not Denominator.objects.exists()


def test_a_bad_file_in_the_pair_rejects_the_upload_and_writes_nothing(tiny_london, tmp_path):
    Denominator.objects.all().delete()
    residents, households = residents_and_households()
    bad = nomis_text(ALL_HOUSEHOLDS, households).replace(
        f"E01000007,{households['E01000007']},", "E01000007,5.5,"
    )
    path = zip_of(
        tmp_path / "census.zip",
        {TS007A: nomis_text(AGE_TOTAL, residents), TS054: bad},
    )

    uploads = receive_upload(path=path, file_name="census.zip")
    validate_upload(uploads[0])

    assert len(uploads) == 1 and uploads[0].status == Upload.Status.REJECTED
    assert uploads[0].errors == [
        {
            "file": TS054,
            "row": 5,
            "column": ALL_HOUSEHOLDS,
            "value": "5.5",
            "reason": "a count must be a whole number",
        }
    ]
    assert not Denominator.objects.exists()


def test_import_file_takes_the_two_nomis_files(tiny_london, tmp_path, capsys):
    Denominator.objects.all().delete()
    residents, households = residents_and_households()
    (tmp_path / TS007A).write_text(nomis_text(AGE_TOTAL, residents))
    (tmp_path / TS054).write_text(nomis_text(ALL_HOUSEHOLDS, households))
    paths = [str(tmp_path / TS007A), str(tmp_path / TS054), "--kind", "census"]

    call_command("import_file", *paths, "--dry-run")
    dry = capsys.readouterr().out
    assert not Upload.objects.exists() and not Denominator.objects.exists()
    call_command("import_file", *paths, "--publish")

    assert f"London residents: none → {sum(residents.values()):,} (5 LSOAs change)" in dry
    upload = Upload.objects.get()
    assert upload.status == Upload.Status.PUBLISHED, upload.message
    assert denominators()["E12000007"] == (sum(residents.values()), sum(households.values()))


@pytest.mark.london
@pytest.mark.django_db
def test_the_real_nomis_pair_in_a_zip_publishes_london(london, tmp_path):
    folder = Path(settings.CRIMEMAP_DATA_DIR) / "census2021" / "nomis"
    path = tmp_path / "census2021-nomis.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in (TS007A, TS054):
            archive.write(folder / name, name)
    lsoas = set(
        Area.objects.filter(level=Level.LSOA, boundary_set__is_current=True).values_list(
            "code", flat=True
        )
    )

    def london_sum(name: str, column: str) -> int:
        with (folder / name).open(encoding="utf-8-sig", newline="") as handle:
            rows = csv.DictReader(handle)
            return sum(int(r[column]) for r in rows if r["geography code"] in lsoas)

    upload = receive_upload(path=path, file_name=path.name)
    assert len(upload) == 1
    check_and_publish(upload[0])

    assert upload[0].status == Upload.Status.PUBLISHED, upload[0].message
    assert len(lsoas) == 4994
    london = Denominator.objects.get(area__code="E12000007", area__boundary_set__is_current=True)
    assert london.residents == 8_799_631 == london_sum(TS007A, AGE_TOTAL)
    assert london.households == london_sum(TS054, ALL_HOUSEHOLDS)
    assert upload[0].preview["london_after"] == [london.residents, london.households]


def test_a_rollback_restores_the_census_figures_of_the_state_it_names(
    tiny_london, tmp_path, fixtures_dir
):
    """A census upload is undone by a rollback like any release, so the next build uses the
    denominators of the state the site went back to (issue 13)."""
    from crimestats.models import ReleaseState
    from crimestats.services.releases import rollback_to
    from crimestats.services.uploads import receive_files
    from tests.crimestats.test_upload_bundle import checked_and_published, mps_files

    (crime,) = receive_files(files=mps_files(fixtures_dir))
    checked_and_published(crime)  # figures to build publications from
    Denominator.objects.all().delete()
    residents, households = residents_and_households()
    first = zip_of(
        tmp_path / "first.zip",
        {TS007A: nomis_text(AGE_TOTAL, residents), TS054: nomis_text(ALL_HOUSEHOLDS, households)},
    )
    check_and_publish(receive_upload(path=first, file_name="first.zip")[0])
    before = denominators()
    state = ReleaseState.objects.order_by("-pk").first()
    more = {code: n + 100 for code, n in residents.items()}
    second = zip_of(tmp_path / "second.zip", {TS007A: nomis_text(AGE_TOTAL, more)})
    upload = check_and_publish(receive_upload(path=second, file_name="second.zip")[0])
    assert upload.status == Upload.Status.PUBLISHED, upload.message
    assert denominators() != before

    assert state.denominators, "the state keeps its census figures"
    rollback_to(state=state, log=lambda _: None)

    assert denominators() == before
    rolled = AuditLog.objects.filter(action=AuditLog.Action.ROLLBACK).latest("pk")
    assert rolled.counts["denominators_restored"] is True
