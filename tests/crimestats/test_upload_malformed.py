"""Malformed uploads, made from the real files: each is rejected with its own message, through
the admin, with nothing written, the public site unchanged and never a 500."""

import functools
import io
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse

from crimestats.models import Upload
from crimestats.services.uploads import receive_upload
from tests.crimestats.uploading import (
    borough_file,
    city_file,
    latest_upload,
    lsoa_file,
    upload,
    user_in,
    ward_file,
    written_state,
)

pytestmark = [pytest.mark.london, pytest.mark.django_db]
SLICE = 300  # data rows of the real LSOA file used as the base of each broken file


def _lines(path: Path, n: int = SLICE) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [next(handle).rstrip("\r\n") for _ in range(n + 1)]


def _text(lines: list[str], end: str = "\n") -> bytes:
    return (end.join(lines) + end).encode()


def _set(lines: list[str], row: int, column: int, value: str) -> list[str]:
    """A copy with one cell changed (row 1 is the first data row)."""
    out = list(lines)
    cells = out[row].split(",")
    cells[column] = value
    out[row] = ",".join(cells)
    return out


def _drop_column(lines: list[str], column: int) -> list[str]:
    return [",".join(c for i, c in enumerate(line.split(",")) if i != column) for line in lines]


def _zip(members: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@functools.cache
def _cases() -> dict[str, tuple]:
    """name → (file content or a function making it, what the message must say)."""
    lsoa = _lines(lsoa_file())
    ward = _lines(ward_file(), 50)
    borough = _lines(borough_file(), 50)
    city = _lines(city_file(), 60)
    census_dir = lsoa_file().parents[2] / "census2021"
    census = _lines(census_dir / "london_lsoa21_census2021_population_households.csv", 20)
    header = lsoa[0].split(",")
    last = len(header) - 1

    def big_zip() -> bytes:  # built only when its test runs: 120 MB of zeros, ~120 KB zipped
        return _zip({"bomb.csv": b"0" * (120 * 1024 * 1024)})

    cases: dict[str, tuple] = {
        "empty": (b"", "the file is empty"),
        "blank-lines": (b"\n\n\n", "the file is empty"),
        "header-only": (_text(lsoa[:1]), "no data rows"),
        "truncated-mid-row": (_text(lsoa)[:-30], "fields where the header has"),
        "truncated-half": (_text(lsoa)[: len(_text(lsoa)) // 2], "fields where the header has"),
        "semicolons": (_text([line.replace(",", ";") for line in lsoa]), "semicolons"),
        "tabs": (_text([line.replace(",", "\t") for line in lsoa]), "tabs"),
        "bars": (_text([line.replace(",", "|") for line in lsoa]), "bars"),
        "extra-column": (
            _text([lsoa[0] + ",Notes"] + [line + ",x" for line in lsoa[1:]]),
            "a month column must be named YYYYMM",
        ),
        "extra-field-in-row": (_text(lsoa[:5] + [lsoa[5] + ",7"] + lsoa[6:]), "fields where"),
        "missing-field-in-row": (_text(lsoa[:5] + [lsoa[5][:-2]] + lsoa[6:]), "fields"),
        "missing-minor": (_text(_drop_column(lsoa, 4)), "missing column 'Minor Category'"),
        "missing-major": (_text(_drop_column(lsoa, 3)), "unknown kind of file"),
        "missing-month-column": (_text(_drop_column(lsoa, 10)), "months must be consecutive"),
        "renamed-code-column": (_text(_set(lsoa, 0, 0, "Area")), "column 'Area'"),
        "renamed-month": (_text(_set(lsoa, 0, 6, "2024-04")), "YYYYMM"),
        "month-13": (_text(_set(lsoa, 0, last, "202513")), "YYYYMM"),
        "months-swapped": (
            _text(_set(_set(lsoa, 0, 6, header[7]), 0, 7, header[6])),
            "months must be consecutive",
        ),
        "month-gap": (_text(_set(lsoa, 0, last, "202601")), "consecutive"),
        "header-twice": (_text([lsoa[0] + ",202403"] + [r + ",0" for r in lsoa[1:]]), "twice"),
        "duplicate-row": (_text(lsoa + [lsoa[3]]), "duplicate row"),
        "duplicate-row-other-counts": (_text(lsoa + [_set(lsoa, 3, 6, "9")[3]]), "duplicate row"),
        "negative": (_text(_set(lsoa, 4, 6, "-3")), "cannot be negative"),
        "fractional": (_text(_set(lsoa, 4, 6, "2.5")), "whole number"),
        "decimal-zero": (_text(_set(lsoa, 4, 6, "2.0")), "whole number"),
        "huge": (_text(_set(lsoa, 4, 6, "99999999999")), "implausibly large"),
        "not-a-number": (_text(_set(lsoa, 4, 6, "n/a")), "not a number"),
        "empty-count": (_text(_set(lsoa, 4, 6, "")), "the count is empty"),
        "thousands-separator": (_text(_set(lsoa, 4, 6, '"1,000"')), "not a number"),
        "unknown-lsoa": (_text(_set(lsoa, 2, 0, "E01999999")), "unknown LSOA code"),
        "lsoa-2011": (_text(_set(lsoa, 2, 0, "E01004027")), "unknown LSOA code"),
        "ward-code-in-lsoa-file": (_text(_set(lsoa, 2, 0, "E05013570")), "a Ward code where LSOA"),
        "borough-code-in-lsoa-file": (_text(_set(lsoa, 2, 0, "E09000002")), "a Borough code"),
        "not-a-code": (_text(_set(lsoa, 2, 0, "Barking")), "not an area code"),
        "empty-code": (_text(_set(lsoa, 2, 0, "")), "empty value"),
        "empty-major": (_text(_set(lsoa, 2, 3, "")), "empty value"),
        "formula-major": (_text(_set(lsoa, 2, 3, "=cmd|' /C calc'!A0")), "spreadsheet formula"),
        "formula-minor": (_text(_set(lsoa, 2, 4, "+SUM(A1:A9)")), "spreadsheet formula"),
        "formula-at": (_text(_set(lsoa, 2, 4, "@SUM(A1)")), "spreadsheet formula"),
        "formula-code": (_text(_set(lsoa, 2, 0, "=HYPERLINK(1)")), "spreadsheet formula"),
        "latin-1": (_text(_set(lsoa, 2, 1, "Bärking")).replace("ä".encode(), b"\xe4"), "not UTF-8"),
        "utf-16": ("\n".join(lsoa).encode("utf-16"), "binary file"),
        "binary": (bytes(range(256)) * 64, "binary file"),
        "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64, "binary file"),
        "not-a-zip": (b"PK\x03\x04" + b"garbage" * 20, "a zip archive, not a CSV"),
        "zip-bomb": (big_zip, "expands to more than"),
        "zip-without-csv": (_zip({"readme.txt": b"hello"}), "holds no .csv"),
        "many-errors": (
            _text([lsoa[0]] + [",".join(["E01999999"] + r.split(",")[1:]) for r in lsoa[1:]]),
            "300 error(s)",
        ),
        "ward-lsoa-code": (_text(_set(ward, 2, 3, "E01000006")), "an LSOA code where Ward"),
        "ward-duplicate": (_text(ward + [ward[2]]), "duplicate row"),
        "borough-code-wrong-level": (_text(_set(borough, 2, 2, "E05013570")), "a Ward code"),
        "borough-negative": (_text(_set(borough, 2, 4, "-1")), "cannot be negative"),
        "police-missing-context": (_text(_drop_column(city, 11)), "missing column 'Context'"),
        "police-two-months": (_text(_set(city, 5, 1, "2025-03")), "a file holds one month"),
        "police-bad-month": (_text(_set(city, 5, 1, "03/2025")), "the month must be YYYY-MM"),
        "police-two-forces": (_text(_set(city, 5, 2, "Kent Police")), "a file holds one force"),
        "police-bad-lsoa": (_text(_set(city, 5, 7, "X0100")), "not an LSOA code"),
        "police-empty-type": (_text(_set(city, 5, 9, "")), "empty value"),
        "police-formula-type": (_text(_set(city, 5, 9, "-2+3")), "spreadsheet formula"),
        "police-other-force": (
            _text([city[0]] + [_set(city, i, 2, "Kent Police")[i] for i in range(1, len(city))]),
            "polices no London borough",
        ),
        "police-already-loaded": (city_file().read_bytes(), "already loaded"),
        "census-negative": (_text(_set(census, 3, 2, "-5")), "cannot be negative"),
        "census-missing-households": (_text(_drop_column(census, 3)), "unknown kind"),
        "unknown-kind": (b"name,value\nx,1\n", "unknown kind of file"),
    }  # fmt: skip
    return cases


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def cases(london):
    return _cases()


def test_at_least_fifty_cases():
    assert len(_cases()) >= 50


@pytest.mark.parametrize("name", sorted(_cases()))
def test_malformed_upload_is_rejected_with_its_message(client, cases, tmp_path, name):
    content, expected = cases[name]
    path = tmp_path / f"{name}.csv"
    path.write_bytes(content() if callable(content) else content)
    client.force_login(user_in("data uploader"))
    before = written_state()
    uploads_before = Upload.objects.count()

    response = upload(client, path)

    assert response.status_code in (200, 302)
    if response.status_code == 200:  # the form itself refused it (an empty file)
        assert "empty" in response.content.decode()
        assert Upload.objects.count() == uploads_before
    else:
        item = latest_upload()
        assert item.status == Upload.Status.REJECTED, (item.status, item.message)
        assert expected in item.message, item.message
        detail = client.get(reverse("admin:crimestats_upload_change", args=[item.pk]))
        assert detail.status_code == 200
        errors = client.get(reverse("admin:crimestats_upload_errors", args=[item.pk]))
        assert errors.status_code == 200 and errors["Content-Type"].startswith("text/csv")
    assert written_state() == before
    assert client.get("/").status_code == 200


def test_every_error_is_in_the_csv_and_formulas_are_neutralised(client, cases, tmp_path):
    path = tmp_path / "many.csv"
    path.write_bytes(cases["many-errors"][0])
    client.force_login(user_in("data uploader"))
    upload(client, path)
    item = latest_upload()
    assert item.error_count == SLICE and len(item.errors) == 100
    body = client.get(reverse("admin:crimestats_upload_errors", args=[item.pk])).content.decode()
    assert len(body.strip().splitlines()) == SLICE + 1

    path = tmp_path / "formula.csv"
    path.write_bytes(cases["formula-major"][0])
    upload(client, path)
    body = client.get(
        reverse("admin:crimestats_upload_errors", args=[latest_upload().pk])
    ).content.decode()
    assert "'=cmd|" in body and ",=cmd" not in body


def test_a_200_mb_file_is_refused_before_it_is_read(london, tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.write(_text(_lines(lsoa_file(), 2)))
        handle.truncate(200 * 1024 * 1024)  # sparse: 200 MB on paper, instant to make
    before = written_state()

    (item,) = receive_upload(path=path, file_name="huge.csv")

    assert item.status == Upload.Status.REJECTED
    assert "the file is 200 MB: the limit is 100 MB" in item.message
    assert not item.file  # not even stored
    assert written_state() == before


def test_the_admin_refuses_a_file_over_the_limit(client, london, settings, tmp_path):
    settings.UPLOAD_MAX_BYTES = 1000
    path = tmp_path / "big.csv"
    path.write_bytes(_text(_lines(lsoa_file(), 50)))
    client.force_login(user_in("data uploader"))

    response = upload(client, path)

    assert response.status_code == 302
    item = latest_upload()
    assert item.status == Upload.Status.REJECTED and "the limit is" in item.message


def test_a_valid_slice_with_bom_and_crlf_is_accepted(client, london, tmp_path):
    path = tmp_path / "slice.csv"
    path.write_bytes(b"\xef\xbb\xbf" + _text(_lines(lsoa_file()), end="\r\n"))
    client.force_login(user_in("data uploader"))
    before = written_state()

    upload(client, path)

    item = latest_upload()
    assert item.status == Upload.Status.VALID, item.message
    assert item.rows == SLICE and item.preview["areas_in_file"] > 0
    assert written_state() == before
