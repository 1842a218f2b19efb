"""The files of an upload: what kind they are, which go together, and their checksum (zip
archives are opened with size caps by areas/importers/archives.py)."""

import csv
import hashlib
import shutil
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from areas.importers.archives import unzip
from areas.services.boundary_uploads import looks_like_boundary_file
from crimestats.importers.census import is_census_header
from crimestats.importers.common import column_key
from crimestats.importers.mps import BOROUGH_KEY, LSOA_CODE, MAJOR, WARD_CODE
from crimestats.models import Upload

SNT = Upload.Kind.SNT
# Crime files sent together are one upload of the first kind here that is among them.
CRIME = (Upload.Kind.MPS, Upload.Kind.POLICE_UK)
BUNDLED = (Upload.Kind.CENSUS, *CRIME)


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


@contextmanager
def bundle_files(path: Path) -> Iterator[list[Path]]:
    """The CSVs of an upload: the file itself, or the members of a bundle (files sent together,
    see group_files), each under its own name so that errors name the file the admin sent."""
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


def is_bundle(upload: Upload) -> bool:
    """An upload of several files sent together (stored as a zip of them, see group_files)."""
    return upload.kind in BUNDLED and zipfile.is_zipfile(upload.file.path)


def member_kind(path: Path, *, kind: str) -> str:
    """The kind of one crime file of a bundle: as its header says, else the bundle's."""
    detected = detect_kind(path)[0]
    return detected if detected in CRIME else kind


def line_count(path: Path) -> int:
    """Lines in a file, or in all the CSVs of a bundle: the check's progress bar counts them."""
    if not zipfile.is_zipfile(path):
        with path.open("rb") as handle:
            return _newlines(handle)
    with zipfile.ZipFile(path) as archive:
        total = 0
        for info in archive.infolist():
            if info.filename.lower().endswith(".csv"):
                with archive.open(info) as handle:
                    total += _newlines(handle)
        return total


def _newlines(handle) -> int:
    return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))


@dataclass
class Group:
    """Files that become one upload: one file, or a bundle checked and published as one."""

    kind: str
    files: list[tuple[Path, str]]  # (path, the name it was sent as)

    @property
    def name(self) -> str:
        return " + ".join(name for _, name in self.files)

    @property
    def bundled(self) -> bool:
        return len(self.files) > 1


def group_files(files: Sequence[tuple[Path, str]], *, kind: str) -> list[Group]:
    """Which files sent together make one upload: census CSVs together, and crime CSVs (MPS and
    police.uk) together; any other file is an upload of its own.

    A month's MPS files (LSOA, ward, borough) and police.uk months are published as ONE
    publication: no public state mixes new and old files, and a rollback undoes them in one
    step. Census: Nomis publishes residents (TS007A) and households (TS054) as separate files.
    A bundle is one Upload, stored as a zip of its files, whose check and publish read all of
    them: one preview, one publish transaction. Linking companion uploads instead would need
    states for a set whose files could be rejected, retried or published apart.
    """
    kinds = {
        path: (kind if kind != Upload.Kind.AUTO else detect_kind(path)[0]) for path, _ in files
    }
    census = [f for f in files if kinds[f[0]] == Upload.Kind.CENSUS]
    crime = [f for f in files if kinds[f[0]] in CRIME]
    groups = []
    for together in (census, crime):
        if len(together) > 1:
            kinds_in = {kinds[path] for path, _ in together}
            bundle_kind = Upload.Kind.MPS if Upload.Kind.MPS in kinds_in else kinds_in.pop()
            groups.append(Group(kind=bundle_kind, files=list(together)))
    bundled = {path for group in groups for path, _ in group.files}
    return groups + [Group(kind=kind, files=[f]) for f in files if f[0] not in bundled]
