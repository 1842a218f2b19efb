"""Receiving: store the files an admin sent as queued uploads (files that go together as one)."""

import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from django.core.files import File

from areas.importers.archives import max_upload_bytes, unzip
from areas.importers.errors import UploadError
from areas.services.boundary_uploads import zip_holds_boundaries
from crimestats.importers.common import check_size
from crimestats.models import AuditLog, Upload
from crimestats.services.releases import audit
from crimestats.services.uploads.checking import record_errors
from crimestats.services.uploads.files import Group, group_files, sha256

Status = Upload.Status


def receive_upload(
    *, path: Path, file_name: str, user=None, kind: str = Upload.Kind.AUTO
) -> list[Upload]:
    """Store an uploaded file (or the CSVs inside a zip, grouped as group_files says) as queued
    uploads.

    Files over the size limit and binary files become rejected uploads with a clear message,
    without being read further; a zip over the limit or that cannot be opened (or a zip bomb)
    raises UploadError.
    """
    if zipfile.is_zipfile(path) and check_size(path, name=file_name):
        if zip_holds_boundaries(path):  # a zipped shapefile is one upload of that shapefile
            return [_receive_one(path=path, file_name=file_name, user=user, kind=kind)]
        members = unzip(path, file_name=file_name)
        try:
            zip_of = {member: file_name for member, _ in members}
            return _receive_groups(members, user=user, kind=kind, zip_of=zip_of)
        finally:
            shutil.rmtree(members[0][0].parent, ignore_errors=True)
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


def _receive_one(
    *, path: Path, file_name: str, user, kind: str, stored_as: str | None = None
) -> Upload:
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
        stored = stored_as or Path(file_name).name or "upload.csv"
        upload.file.save(stored, File(handle), save=False)
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
    """The upload form's files: like receive_uploaded_file for each, except that files selected
    together are grouped as receive_files does it."""
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
    """Files sent together, as (path, name): the CSVs of the zips among them are taken out, then
    all are grouped (group_files): census CSVs make one upload, crime CSVs (MPS and police.uk)
    one upload, any other file an upload of its own. A zip that cannot be opened is a rejected
    upload of its own."""
    uploads: list[Upload] = []
    loose: list[tuple[Path, str]] = []
    zip_of: dict[Path, str] = {}
    folders: list[Path] = []
    try:
        for path, name in files:
            if not zipfile.is_zipfile(path) or zip_holds_boundaries(path):
                loose.append((path, name))
                continue
            try:
                check_size(path, name=name)
                members = unzip(path, file_name=name)
            except UploadError as error:
                uploads.append(_rejected(file_name=name, user=user, kind=kind, error=error))
                continue
            folders.append(members[0][0].parent)
            loose += members
            zip_of |= {member: name for member, _ in members}
        return uploads + _receive_groups(loose, user=user, kind=kind, zip_of=zip_of)
    finally:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)


def _receive_groups(
    files: Sequence[tuple[Path, str]], *, user, kind: str, zip_of: dict[Path, str]
) -> list[Upload]:
    """One upload per group; a bundle is named after its zip when it is all of one zip."""
    uploads = []
    for group in group_files(files, kind=kind):
        if not group.bundled:
            ((path, name),) = group.files
            uploads.append(_receive_one(path=path, file_name=name, user=user, kind=group.kind))
            continue
        zips = {zip_of.get(path) for path, _ in group.files}
        name = zips.pop() if len(zips) == 1 and None not in zips else group.name
        uploads.append(_receive_bundle(group, file_name=name, user=user))
    return uploads


def _receive_bundle(group: Group, *, file_name: str, user) -> Upload:
    """Files sent together, stored as one zip of them (see group_files)."""
    folder = Path(tempfile.mkdtemp(prefix="upload-"))
    try:
        bundle = folder / "bundle.zip"
        with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
            used: set[str] = set()
            for path, name in group.files:
                # Two members of one name (from different folders) must both survive.
                stored = name if name not in used else f"{len(used)}-{name}"
                used.add(stored)
                archive.write(path, stored)
        return _receive_one(
            path=bundle, file_name=file_name, user=user, kind=group.kind, stored_as=bundle.name
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def known_user(user):
    return user if user is not None and user.is_authenticated else None
