"""Folders unpacked from uploaded zips are removed on every path: success, a broken archive, a
check that fails half-way; for CSV uploads as for boundary files."""

import tempfile
import zipfile
from pathlib import Path

import pytest

from areas.importers.errors import UploadError
from areas.services.boundary_uploads import boundary_file
from crimestats.services.uploads import bundle_files, check_file, receive_upload

CSV = b"Month,LSOA Code,Major Category\n" + b"202401,E01000001,BURGLARY\n" * 2000
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "areas"


@pytest.fixture
def scratch(tmp_path, monkeypatch) -> Path:
    """Temporary folders go here, so the test sees every one left behind."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _corrupt(path: Path, member: str) -> Path:
    """The member's compressed bytes overwritten: zlib fails half-way through reading it."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + 10 : start + 60] = b"\xff" * 50
    path.write_bytes(bytes(data))
    return path


def test_a_good_bundle_is_removed_after_use_and_after_an_error(tmp_path, scratch):
    path = _zip(tmp_path / "month.zip", {"a.csv": CSV, "b.csv": CSV})
    with bundle_files(path) as paths:
        assert len(paths) == 2
    with pytest.raises(RuntimeError), bundle_files(path):
        raise RuntimeError("a check failed half-way")
    assert list(scratch.iterdir()) == []


def test_a_zip_of_csvs_that_breaks_while_unpacking_is_refused_and_removed(tmp_path, scratch):
    path = _corrupt(_zip(tmp_path / "month.zip", {"a.csv": CSV, "b.csv": CSV}), "b.csv")
    with pytest.raises(UploadError) as error:
        receive_upload(path=path, file_name="month.zip")
    assert error.value.reason.startswith("the zip archive cannot be read")
    assert list(scratch.iterdir()) == []


def test_checking_a_broken_bundle_removes_what_it_unpacked(tmp_path, scratch):
    path = _corrupt(_zip(tmp_path / "month.zip", {"a.csv": CSV, "b.csv": CSV}), "b.csv")
    with pytest.raises(UploadError, match="cannot be read"):
        check_file(path=path, kind="mps")
    assert list(scratch.iterdir()) == []


def test_a_broken_zipped_shapefile_is_refused_and_removed(tmp_path, scratch):
    members = {
        f"boroughs{suffix}": (FIXTURES / f"boroughs{suffix}").read_bytes()
        for suffix in (".shp", ".shx", ".dbf", ".prj")
    }
    path = _corrupt(_zip(tmp_path / "boroughs.zip", members), "boroughs.shp")
    with pytest.raises(UploadError, match="cannot be read"), boundary_file(path):
        pass
    assert list(scratch.iterdir()) == []
