"""Receiving: store the files an admin sent as queued uploads (census files sent together: one)."""

import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from django.core.files import File

from areas.importers.errors import UploadError
from areas.services.boundary_uploads import zip_holds_boundaries
from crimestats.importers.common import check_size, max_upload_bytes
from crimestats.models import AuditLog, Upload
from crimestats.services.releases import audit
from crimestats.services.uploads.checking import record_errors
from crimestats.services.uploads.files import detect_kind, sha256, unzip

Status = Upload.Status


def receive_upload(
    *, path: Path, file_name: str, user=None, kind: str = Upload.Kind.AUTO
) -> list[Upload]:
    """Store an uploaded file (or each CSV inside a zip) as queued uploads.

    Files over the size limit, binary files and zip bombs become rejected uploads with a clear
    message, without being read further.
    """
    if zipfile.is_zipfile(path) and check_size(path, name=file_name):
        if zip_holds_boundaries(path):  # a zipped shapefile is one upload of that shapefile
            return [_receive_one(path=path, file_name=file_name, user=user, kind=kind)]
        members = unzip(path, file_name=file_name)
        return _receive_members(members, bundle_name=file_name, user=user, kind=kind)
    return [_receive_one(path=path, file_name=file_name, user=user, kind=kind)]


def _rejected(*, file_name: str, user, kind: str, error: UploadError, size: int = 0) -> Upload:
    upload = Upload.objects.create(
        file_name=file_name[:300], kind=kind, uploaded_by=known_user(user), size=size
    )
    record_errors(upload, [error], count=1)
    upload.status = Status.REJECTED
    upload.message = str(error)
    upload.save()
    audit(user=user, action=AuditLog.Action.REJECT, upload=upload, detail=upload.message)
    return upload


def _receive_one(*, path: Path, file_name: str, user, kind: str) -> Upload:
    try:
        size = check_size(path, name=file_name)
    except UploadError as error:
        return _rejected(
            file_name=file_name, user=user, kind=kind, error=error, size=path.stat().st_size
        )
    upload = Upload(
        file_name=file_name[:300],
        kind=kind,
        size=size,
        checksum=sha256(path),
        uploaded_by=known_user(user),
        status=Status.QUEUED,
    )
    with path.open("rb") as handle:
        upload.file.save(Path(file_name).name or "upload.csv", File(handle), save=False)
    upload.save()
    audit(
        user=user,
        action=AuditLog.Action.UPLOAD,
        upload=upload,
        counts={"bytes": size},
        detail=f"kind: {upload.get_kind_display()}",
    )
    return upload


def receive_uploaded_file(*, uploaded, user=None, kind: str = Upload.Kind.AUTO) -> list[Upload]:
    """receive_upload for a Django UploadedFile: the size is checked before reading it."""
    name = Path(uploaded.name or "upload.csv").name
    if uploaded.size > max_upload_bytes():
        error = UploadError(
            name,
            f"the file is {uploaded.size / 1024 / 1024:,.0f} MB: the limit is "
            f"{max_upload_bytes() / 1024 / 1024:,.0f} MB",
        )
        return [_rejected(file_name=name, user=user, kind=kind, error=error, size=uploaded.size)]
    folder = Path(tempfile.mkdtemp(prefix="upload-"))
    try:
        path = folder / "upload"
        with path.open("wb") as out:
            for chunk in uploaded.chunks():
                out.write(chunk)
        try:
            return receive_upload(path=path, file_name=name, user=user, kind=kind)
        except UploadError as error:
            return [_rejected(file_name=name, user=user, kind=kind, error=error)]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def receive_uploaded_files(
    *, files: Sequence, user=None, kind: str = Upload.Kind.AUTO
) -> list[Upload]:
    """The upload form's files: like receive_uploaded_file for each, except that census CSVs
    selected together become one upload (see split_census)."""
    if len(files) < 2:
        return [u for f in files for u in receive_uploaded_file(uploaded=f, user=user, kind=kind)]
    folder = Path(tempfile.mkdtemp(prefix="upload-"))
    try:
        uploads: list[Upload] = []
        saved: list[tuple[Path, str]] = []
        for i, uploaded in enumerate(files):
            if uploaded.size > max_upload_bytes():
                uploads += receive_uploaded_file(uploaded=uploaded, user=user, kind=kind)
                continue
            path = folder / str(i) / Path(uploaded.name or "upload.csv").name
            path.parent.mkdir()
            with path.open("wb") as out:
                for chunk in uploaded.chunks():
                    out.write(chunk)
            saved.append((path, path.name))
        return uploads + receive_files(files=saved, user=user, kind=kind)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def receive_files(
    *, files: Sequence[tuple[Path, str]], user=None, kind: str = Upload.Kind.AUTO
) -> list[Upload]:
    """Files sent together, as (path, name): each zip as receive_upload does it, the other files
    as one batch, so that census CSVs among them become one upload."""
    uploads: list[Upload] = []
    loose = []
    for path, name in files:
        if not zipfile.is_zipfile(path):
            loose.append((path, name))
            continue
        try:
            uploads += receive_upload(path=path, file_name=name, user=user, kind=kind)
        except UploadError as error:
            uploads.append(_rejected(file_name=name, user=user, kind=kind, error=error))
    bundle_name = " + ".join(name for _, name in loose)
    return uploads + _receive_members(loose, bundle_name=bundle_name, user=user, kind=kind)


def split_census(
    files: Sequence[tuple[Path, str]], *, kind: str
) -> tuple[list[tuple[Path, str]], list[tuple[Path, str]]]:
    """The census CSVs among files sent together (when there are two or more), and the rest.

    Nomis publishes residents (TS007A) and households (TS054) as separate files, so census CSVs
    sent together become ONE upload, stored as a zip of them, whose check and publish read all
    of them: one preview, one publish transaction, no state with only one of them published.
    Linking companion uploads instead would need new states for a pair whose halves could be
    rejected, retried or published apart.
    """
    census = [
        (path, name)
        for path, name in files
        if kind == Upload.Kind.CENSUS
        or (kind == Upload.Kind.AUTO and detect_kind(path)[0] == Upload.Kind.CENSUS)
    ]
    if len(census) < 2:
        return [], list(files)
    return census, [f for f in files if f not in census]


def _receive_members(
    members: Sequence[tuple[Path, str]], *, bundle_name: str, user, kind: str
) -> list[Upload]:
    census, rest = split_census(members, kind=kind)
    uploads = []
    if census:
        folder = Path(tempfile.mkdtemp(prefix="upload-"))
        try:
            bundle = folder / "census.zip"
            with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
                used: set[str] = set()
                for path, name in census:
                    # Two members of one name (from different folders) must both survive.
                    stored = name if name not in used else f"{len(used)}-{name}"
                    used.add(stored)
                    archive.write(path, stored)
            uploads.append(
                _receive_one(path=bundle, file_name=bundle_name, user=user, kind=Upload.Kind.CENSUS)
            )
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return uploads + [
        _receive_one(path=path, file_name=name, user=user, kind=kind) for path, name in rest
    ]


def known_user(user):
    return user if user is not None and user.is_authenticated else None
