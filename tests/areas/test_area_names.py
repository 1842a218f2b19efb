"""Area names from boundary files are checked: a name is shown on every page and in the map's
tooltips, so markup, control characters and other oddities are refused with the feature located."""

import json
from pathlib import Path

import pytest

from areas.importers.boundaries import check_name, read_boundary_file
from areas.importers.errors import UploadError
from areas.models import Level
from areas.services.boundary_uploads import BoundaryErrors, read_upload

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "areas"
HOSTILE = '<img src=x onerror="alert(1)">'


def _renamed(tmp_path: Path, name: str) -> Path:
    """The LSOA squares fixture with its first area renamed."""
    data = json.loads((FIXTURES / "lsoa_squares.geojson").read_text())
    data["features"][0]["properties"]["lsoa21nm"] = name
    path = tmp_path / "lsoas.geojson"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    "name",
    ["Queen's Park & Kensal Green", "St. Helier", "Bromley-by-Bow", "Ynys Môn", "King’s Cross"],
)
def test_real_names_pass(name):
    assert check_name(name=name, file="f", row=1, column="n") == name


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        (HOSTILE, "<"),
        ("Alpha\u202eevil", "\u202e"),
        ("javascript:alert(1)", ":"),
        ("Alpha {{ x }}", "{"),
        ("a\x07b", "\x07"),
    ],
)
def test_hostile_names_are_refused_naming_the_character(name, bad):
    with pytest.raises(UploadError) as error:
        check_name(name=name, file="f.geojson", row=3, column="lsoa21nm")
    assert error.value.row == 3 and error.value.column == "lsoa21nm"
    assert repr(bad) in error.value.reason


def test_a_very_long_name_is_refused():
    with pytest.raises(UploadError, match="at most 100 characters"):
        check_name(name="A" * 101, file="f", row=1, column="n")


@pytest.mark.django_db
def test_an_upload_with_a_hostile_name_is_refused(tmp_path):
    with pytest.raises(BoundaryErrors) as error:
        read_upload(path=_renamed(tmp_path, HOSTILE))
    (only,) = error.value.errors
    assert (only.row, only.column, only.value) == (1, "lsoa21nm", HOSTILE)
    assert "'<'" in only.reason


def test_the_loader_refuses_a_hostile_name_too(tmp_path):
    with pytest.raises(UploadError, match="'<'"):
        read_boundary_file(path=_renamed(tmp_path, HOSTILE), level=Level.LSOA)
