"""The files of an upload: what kind they are, their checksum, and zip archives opened with a
size cap."""

import csv
import hashlib
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from areas.importers.errors import UploadError
from areas.services.boundary_uploads import looks_like_boundary_file
from crimestats.importers.census import is_census_header
from crimestats.importers.common import column_key, max_upload_bytes
from crimestats.importers.mps import BOROUGH_KEY, LSOA_CODE, MAJOR, WARD_CODE
from crimestats.models import Upload

# A zip archive may expand to at most this many bytes in all (zip bombs are cut off here).
DEFAULT_MAX_UNZIPPED = 300 * 1024 * 1024
SNT = Upload.Kind.SNT


def detect_kind(path: Path) -> tuple[str | None, str]:
    """The kind of file from its header row, and a short description of what it looks like."""
    if looks_like_boundary_file(path):  # by name or zip contents: GDAL reads CSVs too
        return Upload.Kind.BOUNDARIES, "boundary file"
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    text = head.decode("utf-8-sig", errors="replace")
    first = text.splitlines()[0] if text else ""
    keys = {column_key(name) for name in next(csv.reader([first]), [])}
    if {"crimeid", "crimetype", "lsoacode"} <= keys:
        return Upload.Kind.POLICE_UK, "police.uk street-level records"
    if keys & MAJOR:
        for names, level in ((LSOA_CODE, "LSOA"), (WARD_CODE, "ward"), (BOROUGH_KEY, "borough")):
            if keys & names:
                months = sum(1 for k in keys if k.isdigit() and len(k) == 6)
                return Upload.Kind.MPS, f"MPS {level} file, {months} month columns"
    if is_census_header(keys):
        return Upload.Kind.CENSUS, "Census 2021 denominators"
    if {"policeukneighbourhoodid", "sntname", "wardcode"} <= keys:
        return SNT, "Safer Neighbourhoods team list"
    return None, "not a file this site knows"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def unzip(
    path: Path, *, file_name: str, suffixes: tuple[str, ...] = (".csv",)
) -> list[tuple[Path, str]]:
    """Extract the CSVs (or files of other suffixes) of a zip to a temporary folder, stopping at
    the uncompressed size cap.

    Sizes in the zip's own directory can lie, so the bytes actually read are counted.
    """
    cap = int(getattr(settings, "UPLOAD_MAX_UNZIPPED_BYTES", DEFAULT_MAX_UNZIPPED))
    per_file = max_upload_bytes()
    folder = Path(tempfile.mkdtemp(prefix="upload-"))
    found: list[tuple[Path, str]] = []
    total = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.is_dir() or not info.filename.lower().endswith(suffixes):
                    continue
                name = Path(info.filename).name
                target = folder / f"{len(found)}-{name}"
                written = 0
                with archive.open(info) as source, target.open("wb") as out:
                    for block in iter(lambda s=source: s.read(1 << 20), b""):
                        written += len(block)
                        total += len(block)
                        if written > per_file or total > cap:
                            raise UploadError(
                                file_name,
                                "the zip archive expands to more than "
                                f"{min(cap, per_file) / 1024 / 1024:,.0f} MB: refused",
                                value=info.filename,
                            )
                        out.write(block)
                found.append((target, name))
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError) as error:
        raise UploadError(file_name, f"the zip archive cannot be read: {error}") from None
    if not found:
        raise UploadError(file_name, f"the zip archive holds no {' or '.join(suffixes)} file")
    return found


@contextmanager
def census_files(path: Path) -> Iterator[list[Path]]:
    """The CSVs of a census upload: the file itself, or the members of a census bundle (see
    split_census), each under its own name so that errors name the file the admin sent."""
    if not zipfile.is_zipfile(path):
        yield [path]
        return
    members = unzip(path, file_name=path.name)
    folder = members[0][0].parent
    try:
        paths = []
        for i, (member, name) in enumerate(members):
            target = folder / str(i) / name
            target.parent.mkdir()
            member.rename(target)
            paths.append(target)
        yield paths
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def line_count(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
