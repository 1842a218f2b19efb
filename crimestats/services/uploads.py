"""Monthly uploads: receive a file, check every row, preview the change, publish it atomically.

Flow: `receive_upload` stores the file and queues it; the worker (`process_uploads`) runs
`validate_upload` (nothing is written but the Upload row: errors, warnings, preview); an admin
acknowledges warnings and asks to publish; the worker runs `publish_upload`: the importer writes
the release and its current months, then the publication is rebuilt and switched to, all in one
transaction under the publish lock.
"""

import csv
import hashlib
import io
import logging
import shutil
import tempfile
import time
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone

from areas.importers.errors import UploadError
from areas.importers.snt import import_snt_teams, read_snt_file
from areas.models import Area, Level, SaferNeighbourhoodTeam
from areas.services.boundary_uploads import looks_like_boundary_file, zip_holds_boundaries
from crimestats.importers.categories import POLICE_UK
from crimestats.importers.census import MEASURES, import_census, is_census_header
from crimestats.importers.common import (
    ImportResult,
    UploadErrors,
    check_size,
    column_key,
    looks_like_formula,
    max_upload_bytes,
    read_csv,
)
from crimestats.importers.mps import (
    BOROUGH_KEY,
    LONDON_ONLY,
    LSOA_CODE,
    MAJOR,
    WARD_CODE,
    MpsPlan,
    import_mps_file,
    plan_mps_file,
)
from crimestats.importers.policeuk import PoliceUkPlan, import_policeuk_file, plan_policeuk_file
from crimestats.models import (
    AuditLog,
    Category,
    CategoryAlias,
    CurrentMonth,
    Release,
    Upload,
)
from crimestats.services.boundaries import check_boundary_upload, publish_boundary_upload
from crimestats.services.publish import build_publication
from crimestats.services.releases import (
    StateError,
    audit,
    current_publication,
    ensure_baseline,
    fingerprint,
    lock_publishing,
    record_state,
    refresh_caches,
)
from crimestats.sources import MET

ERRORS_SHOWN = 100
LARGEST_SHOWN = 20
# A restated month whose London total moves by more than this share is a "large revision".
LARGE_REVISION = 0.05
# A zip archive may expand to at most this many bytes in all (zip bombs are cut off here).
DEFAULT_MAX_UNZIPPED = 300 * 1024 * 1024
Status = Upload.Status
SNT = Upload.Kind.SNT
KINDS = Upload.Kind.choices
logger = logging.getLogger(__name__)


# Receiving -----------------------------------------------------------------------------------


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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
        members = _unzip(path, file_name=file_name)
        return _receive_members(members, bundle_name=file_name, user=user, kind=kind)
    return [_receive_one(path=path, file_name=file_name, user=user, kind=kind)]


def _rejected(*, file_name: str, user, kind: str, error: UploadError, size: int = 0) -> Upload:
    upload = Upload.objects.create(
        file_name=file_name[:300], kind=kind, uploaded_by=_user(user), size=size
    )
    _record_errors(upload, [error], count=1)
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
        checksum=_sha256(path),
        uploaded_by=_user(user),
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


def _unzip(
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


def _user(user):
    return user if user is not None and user.is_authenticated else None


# Validating ----------------------------------------------------------------------------------


@dataclass
class Checked:
    """What validation found: the plan to write, where it lands, and what it would change."""

    kind: str
    plan: MpsPlan | PoliceUkPlan | None
    source: str
    force: str
    level: str
    rows: int
    warnings: list[str]
    new_categories: list[str]
    preview: dict


def _progress(upload: Upload) -> Callable[[int], None]:
    def report(done: int) -> None:
        Upload.objects.filter(pk=upload.pk).update(progress_done=done)

    return report


def check_file(*, path: Path, kind: str, on_row: Callable[[int], None] | None = None) -> Checked:
    """Validate a file of a known kind and work out what publishing it would change."""
    if kind == Upload.Kind.AUTO:
        detected, what = detect_kind(path)
        if detected is None:
            read_csv(path)  # a file that is not CSV at all gets its own, plainer message
            raise UploadError(
                path.name,
                "unknown kind of file: the header is not an MPS, police.uk or census header",
                row=1,
            )
        kind = detected
    if kind == Upload.Kind.MPS:
        plan = plan_mps_file(path=path, progress=False, on_row=on_row)
        return _checked_mps(plan)
    if kind == Upload.Kind.POLICE_UK:
        return _checked_policeuk(plan_policeuk_file(path=path, progress=False))
    if kind == Upload.Kind.CENSUS:
        with census_files(path) as paths:
            return check_census(paths=paths)
    if kind == SNT:
        return _checked_snt(path)
    if kind == Upload.Kind.BOUNDARIES:
        return _checked_boundaries(path)
    raise UploadError(path.name, f"unknown kind of file: {kind!r}")


def _checked_boundaries(path: Path) -> Checked:
    """A boundary file (crimestats/services/boundaries.py): its level comes from its codes."""
    checked = check_boundary_upload(path=path)
    return Checked(
        kind=Upload.Kind.BOUNDARIES,
        plan=None,
        source="boundaries",
        force="",
        level=checked.level,
        rows=checked.features,
        warnings=checked.warnings,
        new_categories=[],
        preview=checked.preview | {"detected": checked.detected},
    )


def _checked_snt(path: Path) -> Checked:
    """The team list: checked by its importer; the preview counts new and changed teams."""
    read_csv(path)  # size, encoding and binary checks first, with their own messages
    teams = read_snt_file(path=path)
    existing = set(SaferNeighbourhoodTeam.objects.values_list("ward_code", flat=True))
    wards = {team["ward_code"] for team in teams}
    preview = {
        "snt": True,
        "teams": len(teams),
        "new": len(wards - existing),
        "updated_or_unchanged": len(wards & existing),
        "not_in_file": len(existing - wards),
    }
    return Checked(
        kind=SNT,
        plan=None,
        source="snt",
        force="",
        level=Level.WARD,
        rows=len(teams),
        warnings=[],
        new_categories=[],
        preview=preview,
    )


def _already(plan) -> None:
    if plan.existing is not None:
        raise UploadError(
            plan.csv_file.name,
            f"this file is already loaded (release {plan.existing.pk}, "
            f"{plan.existing.imported_at:%Y-%m-%d}): to use it again, roll back to a state "
            "that used it",
        )


def _checked_mps(plan: MpsPlan) -> Checked:
    _already(plan)
    parsed, layout = plan.parsed, plan.layout
    new = _new_categories({(major, minor) for _, major, minor in parsed.rows})
    month_index = {m: i for i, m in enumerate(layout.months)}
    current = [month_index[m] for m in plan.current]
    by_area: dict[tuple[int, str], int] = defaultdict(int)
    by_month: dict[tuple[date, str], int] = defaultdict(int)
    for (area_id, major, _), values in parsed.rows.items():
        for i in current:
            if values[i]:
                by_month[(layout.months[i], major)] += values[i]
        if area_id != LONDON_ONLY:
            by_area[(area_id, major)] += sum(values[i] for i in current)
    level = layout.level
    preview = _preview(
        source=Release.Source.MPS,
        force=MET,
        level=level,
        months=layout.months,
        current=plan.current,
        after_area=by_area,
        after_month=by_month,
    )
    return Checked(
        kind=Upload.Kind.MPS,
        plan=plan,
        source=Release.Source.MPS,
        force=MET,
        level=level,
        rows=parsed.row_count,
        warnings=plan.warnings + preview.pop("revision_warnings"),
        new_categories=[" / ".join(pair) for pair in new],
        preview=preview,
    )


def _checked_policeuk(plan: PoliceUkPlan) -> Checked:
    _already(plan)
    tally = plan.tally
    aliases = dict(
        CategoryAlias.objects.filter(source=POLICE_UK).values_list("name", "category_id")
    )
    majors = _major_names()
    lsoas = dict(
        Area.objects.filter(level=Level.LSOA, boundary_set__is_current=True).values_list(
            "code", "id"
        )
    )
    by_area: dict[tuple[int, str], int] = defaultdict(int)
    by_month: dict[tuple[date, str], int] = defaultdict(int)
    new = set()
    major_names = set(majors.values())
    for (code, crime_type), n in tally.located.items():
        category = aliases.get(crime_type)
        major = majors.get(category) if category else crime_type
        if category is None and crime_type not in major_names:
            new.add(crime_type)
        by_area[(lsoas[code], major)] += n
        by_month[(tally.month, major)] += n
    preview = _preview(
        source=Release.Source.POLICE_UK,
        force=tally.force,
        level=Level.LSOA,
        months=[tally.month],
        current=[tally.month],
        after_area=by_area,
        after_month=by_month,
    )
    return Checked(
        kind=Upload.Kind.POLICE_UK,
        plan=plan,
        source=Release.Source.POLICE_UK,
        force=tally.force,
        level=Level.LSOA,
        rows=tally.rows,
        # Each police.uk file is one month: say which, so several files' warnings read apart.
        warnings=[
            f"{tally.month:%Y-%m}: {w}" for w in plan.warnings + preview.pop("revision_warnings")
        ],
        new_categories=sorted(new),
        preview=preview,
    )


@contextmanager
def census_files(path: Path) -> Iterator[list[Path]]:
    """The CSVs of a census upload: the file itself, or the members of a census bundle (see
    split_census), each under its own name so that errors name the file the admin sent."""
    if not zipfile.is_zipfile(path):
        yield [path]
        return
    members = _unzip(path, file_name=path.name)
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


def check_census(*, paths: Sequence[Path]) -> Checked:
    """Census: run the importer in a transaction that is always undone, to see its result."""

    class _Undo(Exception):
        pass

    try:
        with transaction.atomic():
            result = import_census(paths=paths, log=lambda _: None, progress=False)
            raise _Undo
    except _Undo:
        pass
    before = result.london_before
    preview = {
        "census": True,
        "files": result.files,
        "given": result.given,
        "kept": result.kept,
        "london_before": list(before) if before else None,
        "london_after": [result.london_residents, result.london_households],
        "measures": [
            {
                "measure": measure,
                "before": before[i] if before else None,
                "after": (result.london_residents, result.london_households)[i],
                "lsoas_changed": result.changed[measure],
                "kept": measure in result.kept,
            }
            for i, measure in enumerate(MEASURES)
        ],
        "written": result.written,
        "unchanged": result.unchanged,
    }
    return Checked(
        kind=Upload.Kind.CENSUS,
        plan=None,
        source="census",
        force="",
        level=Level.LSOA,
        rows=sum(result.written.values()),
        warnings=[],
        new_categories=[],
        preview=preview,
    )


def _major_names() -> dict[int, str]:
    """Category id → the name of its major category."""
    names = {}
    categories = Category.objects.values_list("id", "name", "parent_id", "parent__name")
    for category_id, name, parent_id, parent_name in categories:
        names[category_id] = parent_name if parent_id else name
    return names


def _new_categories(pairs: set[tuple[str, str]]) -> list[tuple[str, str]]:
    known = set(Category.objects.filter(parent__isnull=False).values_list("parent__name", "name"))
    return sorted(pairs - known)


BEFORE_SQL = """
    SELECT mc.area_id, COALESCE(p.name, c.name), mc.month, SUM(mc.count)
    FROM crimestats_monthlycount mc
    JOIN crimestats_currentmonth cm ON cm.release_id = mc.release_id AND cm.month = mc.month
    JOIN crimestats_category c ON c.id = mc.category_id
    LEFT JOIN crimestats_category p ON p.id = c.parent_id
    WHERE cm.source = %s AND cm.force = %s AND cm.level = %s AND mc.month = ANY(%s)
    GROUP BY 1, 2, 3
"""


def _preview(
    *,
    source: str,
    force: str,
    level: str,
    months: list[date],
    current: list[date],
    after_area: dict[tuple[int, str], int],
    after_month: dict[tuple[date, str], int],
) -> dict:
    """What publishing would change, against what is current now, for the months it takes over.

    Totals are per major category; "London" is the sum of the file's areas (the Met's own
    London total comes from the borough file).
    """
    covered = set(
        CurrentMonth.objects.filter(source=source, force=force, level=level).values_list(
            "month", flat=True
        )
    )
    before_area: dict[tuple[int, str], int] = defaultdict(int)
    before_month: dict[tuple[date, str], int] = defaultdict(int)
    with connection.cursor() as cursor:
        cursor.execute(BEFORE_SQL, [source, force, level, list(current)])
        for area_id, major, month, total in cursor:
            before_area[(area_id, major)] += int(total)
            before_month[(month, major)] += int(total)
    shown = {
        name: label or name.capitalize()
        for name, label in Category.objects.filter(shown=True, parent=None).values_list(
            "name", "label"
        )
    }
    areas = {
        area_id: (code, name, parent_code, parent_name)
        for area_id, code, name, parent_code, parent_name in Area.objects.filter(
            id__in={a for a, _ in before_area} | {a for a, _ in after_area}
        ).values_list("id", "code", "name", "parent__code", "parent__name")
    }

    def borough_of(area_id: int) -> tuple[str, str]:
        code, name, parent_code, parent_name = areas[area_id]
        if level == Level.BOROUGH:
            return code, name
        if level == Level.REGION:
            return "", ""
        return parent_code or "", parent_name or ""

    majors = sorted({m for _, m in before_area} | {m for _, m in after_area})
    london = [
        {
            "category": shown.get(major, major),
            "shown": major in shown,
            "before": sum(v for (_, m), v in before_area.items() if m == major),
            "after": sum(v for (_, m), v in after_area.items() if m == major),
        }
        for major in majors
    ]
    boroughs: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(
        lambda: defaultdict(lambda: [0, 0])
    )
    changes = []
    affected = set()
    for key in set(before_area) | set(after_area):
        area_id, major = key
        old, new = before_area.get(key, 0), after_area.get(key, 0)
        code, name = borough_of(area_id)
        if code and major in shown:
            cell = boroughs[(code, name)][shown[major]]
            cell[0] += old
            cell[1] += new
        if old != new:
            affected.add(area_id)
            changes.append((abs(new - old), area_id, major, old, new))
    changes.sort(key=lambda c: (-c[0], areas[c[1]][0], c[2]))
    month_rows = []
    revision_warnings = []
    for month in current:
        old = sum(v for (m, _), v in before_month.items() if m == month)
        new = sum(v for (m, _), v in after_month.items() if m == month)
        state = "added" if month not in covered else ("unchanged" if old == new else "restated")
        month_rows.append({"month": month.isoformat(), "before": old, "after": new, "state": state})
        if month in covered and old and abs(new - old) > LARGE_REVISION * old:
            revision_warnings.append(
                f"{month:%Y-%m}: a large revision of a published month: total {old:,} → "
                f"{new:,} ({(new - old) / old:+.1%})"
            )
    for row in month_rows:
        month = date.fromisoformat(row["month"])
        if row["state"] == "unchanged" and any(
            before_month.get((month, m), 0) != after_month.get((month, m), 0) for m in majors
        ):
            row["state"] = "restated"
    return {
        "source": source,
        "force": force,
        "level": level,
        "fingerprint": fingerprint(source=source, force=force, level=level),
        "months_in_file": [m.isoformat() for m in months],
        "months_not_current": [m.isoformat() for m in months if m not in set(current)],
        "months": month_rows,
        "months_added": [r["month"] for r in month_rows if r["state"] == "added"],
        "months_restated": [r["month"] for r in month_rows if r["state"] == "restated"],
        "areas_in_file": len({a for a, _ in after_area}),
        "areas_affected": len(affected),
        "london": london,
        "borough_categories": sorted(set(shown.values())),
        "boroughs": [
            {
                "code": code,
                "name": name,
                "cells": {c: values for c, values in sorted(cells.items())},
                "changed": any(v[0] != v[1] for v in cells.values()),
            }
            for (code, name), cells in sorted(boroughs.items(), key=lambda item: item[0][1])
        ],
        "largest": [
            {
                "code": areas[area_id][0],
                "name": areas[area_id][1],
                "category": shown.get(major, major),
                "before": old,
                "after": new,
                "change": new - old,
            }
            for _, area_id, major, old, new in changes[:LARGEST_SHOWN]
        ],
        "revision_warnings": revision_warnings,
    }


def neutralise(value) -> str:
    """A cell that a spreadsheet would run as a formula is written as text (leading ')."""
    text = "" if value is None else str(value)
    return "'" + text if looks_like_formula(text) else text


def errors_as_csv(errors: list[UploadError]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["file", "row", "column", "value", "reason"])
    for e in errors:
        writer.writerow([neutralise(v) for v in (e.file, e.row, e.column, e.value, e.reason)])
    return out.getvalue()


def _record_errors(upload: Upload, errors: list[UploadError], *, count: int) -> None:
    upload.error_count = count
    upload.errors = [
        {"file": e.file, "row": e.row, "column": e.column, "value": e.value, "reason": e.reason}
        for e in errors[:ERRORS_SHOWN]
    ]
    upload.errors_csv = errors_as_csv(errors)


def validate_upload(upload: Upload, *, user=None) -> Upload:
    """Check every row of an upload and store errors or the preview; writes no data."""
    path = Path(upload.file.path)
    upload.status = Status.VALIDATING
    upload.progress_done = 0
    upload.progress_total = _line_count(path)
    upload.save(update_fields=["status", "progress_done", "progress_total", "updated_at"])
    try:
        checked = check_file(path=path, kind=upload.kind, on_row=_progress(upload))
    except UploadErrors as errors:
        return _reject(upload, errors.errors, count=errors.error_count, user=user)
    except UploadError as error:
        return _reject(upload, [error], count=1, user=user)
    upload.kind = checked.kind
    upload.status = Status.VALID
    upload.rows = checked.rows
    upload.progress_done = upload.progress_total
    upload.warnings = checked.warnings
    upload.new_categories = checked.new_categories
    upload.preview = checked.preview
    upload.base_publication = current_publication()
    upload.detected = _describe(checked)
    upload.message = (
        f"{upload.rows:,} rows checked: no errors; {len(checked.warnings)} warning(s)"
        + (f", {len(checked.new_categories)} new categories" if checked.new_categories else "")
    )
    upload.save()
    audit(
        user=user,
        action=AuditLog.Action.VALIDATE,
        upload=upload,
        counts={"rows": upload.rows, "warnings": len(upload.warnings)},
        detail=upload.message,
    )
    return upload


def _describe(checked: Checked) -> str:
    if checked.kind == Upload.Kind.BOUNDARIES:
        return checked.preview["detected"]
    if checked.kind == Upload.Kind.CENSUS:
        kept = checked.preview.get("kept")
        return "Census 2021 denominators" + (f" ({', '.join(kept)} kept)" if kept else "")
    months = checked.preview.get("months_in_file", [])
    span = f"{months[0][:7]} to {months[-1][:7]}" if months else ""
    return f"{checked.source} / {checked.force} / {checked.level}, {span}"


def _line_count(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))


def _reject(upload: Upload, errors: list[UploadError], *, count: int, user) -> Upload:
    _record_errors(upload, errors, count=count)
    upload.status = Status.REJECTED
    upload.message = (
        f"rejected: {count:,} error(s); nothing was written. First: {errors[0]}"
        if count > 1
        else f"rejected: {errors[0]}"
    )
    upload.save()
    audit(
        user=user,
        action=AuditLog.Action.REJECT,
        upload=upload,
        counts={"errors": count},
        detail=upload.message[:2000],
    )
    return upload


# Publishing ----------------------------------------------------------------------------------


def needs_acknowledgement(upload: Upload) -> bool:
    return bool(upload.warnings or upload.new_categories) and upload.acknowledged_at is None


def acknowledge(upload: Upload, *, user) -> None:
    upload.acknowledged_by = _user(user)
    upload.acknowledged_at = timezone.now()
    upload.save(update_fields=["acknowledged_by", "acknowledged_at", "updated_at"])
    audit(
        user=user,
        action=AuditLog.Action.ACKNOWLEDGE,
        upload=upload,
        counts={"warnings": len(upload.warnings), "new_categories": len(upload.new_categories)},
        detail="; ".join(upload.warnings + upload.new_categories)[:2000],
    )


def request_publish(upload: Upload, *, user) -> None:
    """Queue a checked upload for publishing (the worker does it)."""
    if upload.status != Status.VALID:
        raise StateError(f"only a checked upload can be published (this one is {upload.status})")
    if needs_acknowledgement(upload):
        raise StateError("acknowledge the warnings (and new categories) first")
    updated = Upload.objects.filter(pk=upload.pk, status=Status.VALID).update(
        status=Status.PUBLISH_QUEUED, published_by=_user(user), message="waiting to be published"
    )
    if not updated:
        raise StateError("this upload is already being published")
    upload.refresh_from_db()


def _import(upload: Upload, *, user, log) -> ImportResult | None:
    path = Path(upload.file.path)
    if upload.kind == Upload.Kind.MPS:
        return import_mps_file(path=path, user=user, log=log, progress=False)
    if upload.kind == Upload.Kind.POLICE_UK:
        return import_policeuk_file(path=path, user=user, log=log, progress=False)
    if upload.kind == Upload.Kind.CENSUS:
        with census_files(path) as paths:
            import_census(paths=paths, log=log, progress=False)
        return None
    if upload.kind == SNT:
        import_snt_teams(path=path, log=log)
        return None
    if upload.kind == Upload.Kind.BOUNDARIES:
        publish_boundary_upload(path=path, preview=upload.preview, log=log)
        return None
    raise StateError(f"cannot publish an upload of kind {upload.kind!r}")


def publish_upload(upload: Upload, *, user=None, log: Callable[[str], None] = print) -> Upload:
    """Write the upload's release(s) and switch the site to a publication built with them.

    One transaction under the publish lock: the data this preview was made against must be
    unchanged (else the upload must be checked again), and any failure leaves the site as it was.
    """
    user = user or upload.published_by
    upload.status = Status.PUBLISHING
    upload.save(update_fields=["status", "updated_at"])
    lines: list[str] = []

    def note(text: str) -> None:
        lines.append(text)
        log(text)

    try:
        with transaction.atomic():
            lock_publishing()
            preview = upload.preview
            if preview.get("fingerprint") and preview["fingerprint"] != fingerprint(
                source=preview["source"], force=preview["force"], level=preview["level"]
            ):
                raise StateError(
                    "the current data changed since this upload was checked (another publish "
                    "or a rollback): check it again before publishing"
                )
            ensure_baseline(user=user)
            started = time.perf_counter()
            result = _import(upload, user=user, log=note)
            written = time.perf_counter()
            if result is not None and not result.created:
                raise StateError("this file is already loaded: nothing to publish")
            # Team details are not figures: only data uploads need a new publication.
            publication = None if upload.kind == SNT else build_publication(user=user, log=note)
            built = time.perf_counter()
            if publication is not None:
                record_state(user=user, note=f"published {upload.file_name} (upload {upload.pk})")
            if result is not None:
                upload.releases.set(result.releases)
            upload.status = Status.PUBLISHED
            upload.message = "published: " + (
                f"{result.counts_written if result else 0:,} counts written; publication "
                f"{publication.pk} is now public"
                if publication is not None
                else "the team list is updated"
            )
            upload.save()
            audit(
                user=user,
                action=AuditLog.Action.PUBLISH,
                upload=upload,
                counts={
                    "rows": upload.rows,
                    "counts_written": result.counts_written if result else 0,
                    "releases": [r.pk for r in result.releases] if result else [],
                    "publication": publication.pk if publication else None,
                    "write_seconds": round(written - started, 2),
                    "build_seconds": round(built - written, 2),
                },
                detail="\n".join(lines)[:4000],
            )
            refresh_caches()
    except Exception as error:
        Upload.objects.filter(pk=upload.pk).update(
            status=Status.FAILED,
            message=f"publishing failed, nothing changed: {error}"[:4000],
        )
        upload.refresh_from_db()
        audit(
            user=user,
            action=AuditLog.Action.PUBLISH_FAILED,
            upload=upload,
            detail=f"{type(error).__name__}: {error}"[:4000],
        )
        if not isinstance(error, StateError | UploadError):
            logger.exception("publishing upload %s failed", upload.pk)
    return upload


# The worker ----------------------------------------------------------------------------------


def claim_next() -> Upload | None:
    """Take the oldest queued job, so that two workers never run the same one."""
    with transaction.atomic():
        upload = (
            Upload.objects.select_for_update(skip_locked=True)
            .filter(status__in=[Status.QUEUED, Status.PUBLISH_QUEUED])
            .order_by("updated_at")
            .first()
        )
        if upload is None:
            return None
        next_status = Status.VALIDATING if upload.status == Status.QUEUED else Status.PUBLISHING
        Upload.objects.filter(pk=upload.pk).update(status=next_status)
        return upload


def run_job(upload: Upload, *, log: Callable[[str], None] = print) -> Upload:
    if upload.status == Status.QUEUED:
        return validate_upload(upload, user=upload.uploaded_by)
    if upload.status == Status.PUBLISH_QUEUED:
        return publish_upload(upload, user=upload.published_by, log=log)
    return upload


def process_queue(*, log: Callable[[str], None] = print) -> int:
    """Run every queued job (the worker's loop body; tests call it as a burst worker)."""
    done = 0
    while (upload := claim_next()) is not None:
        try:
            run_job(upload, log=log)
        except Exception as error:  # a bug must not stop the worker or leave the job hanging
            logger.exception("upload job %s failed", upload.pk)
            Upload.objects.filter(pk=upload.pk).update(
                status=Status.FAILED, message=f"the check failed unexpectedly: {error}"[:4000]
            )
        done += 1
    return done


def recover_stale_jobs() -> int:
    """Jobs a killed worker left half-done go back to the queue: nothing of theirs was written
    (validation writes no data; publishing is one transaction)."""
    requeued = Upload.objects.filter(status=Status.VALIDATING).update(status=Status.QUEUED)
    return requeued + Upload.objects.filter(status=Status.PUBLISHING).update(
        status=Status.PUBLISH_QUEUED
    )
