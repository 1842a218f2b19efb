"""Checking: every row of an upload, with its errors or its warnings and preview; writes no data."""

import csv
import io
import zipfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.db import transaction

from areas.importers.errors import UploadError
from areas.importers.snt import read_snt_file
from areas.models import Area, Level, SaferNeighbourhoodTeam
from crimestats.importers.categories import POLICE_UK
from crimestats.importers.census import MEASURES, import_census
from crimestats.importers.common import ErrorLog, UploadErrors, looks_like_formula, read_csv
from crimestats.importers.mps import LONDON_ONLY, MpsPlan, plan_mps_file
from crimestats.importers.policeuk import PoliceUkPlan, plan_policeuk_file
from crimestats.models import AuditLog, CategoryAlias, Release, Upload
from crimestats.selectors import read_current_publication
from crimestats.services.boundaries import check_boundary_upload
from crimestats.services.releases import audit
from crimestats.services.uploads.files import (
    CRIME,
    bundle_files,
    detect_kind,
    line_count,
    member_kind,
)
from crimestats.services.uploads.preview import (
    crime_preview,
    major_category_names,
    unknown_categories,
)
from crimestats.sources import MET, not_shown_reason

ERRORS_SHOWN = 100
Status = Upload.Status
SNT = Upload.Kind.SNT


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
    if kind in CRIME and zipfile.is_zipfile(path):
        with bundle_files(path) as paths:
            return check_crime_files(paths=paths, kind=kind, on_row=on_row)
    if kind == Upload.Kind.MPS:
        plan = plan_mps_file(path=path, progress=False, on_row=on_row)
        return _checked_mps(plan)
    if kind == Upload.Kind.POLICE_UK:
        return _checked_policeuk(plan_policeuk_file(path=path, progress=False))
    if kind == Upload.Kind.CENSUS:
        with bundle_files(path) as paths:
            return check_census(paths=paths)
    if kind == SNT:
        return _checked_snt(path)
    if kind == Upload.Kind.BOUNDARIES:
        return _checked_boundaries(path)
    raise UploadError(path.name, f"unknown kind of file: {kind!r}")


def check_crime_files(
    *, paths: Sequence[Path], kind: str, on_row: Callable[[int], None] | None = None
) -> Checked:
    """MPS and police.uk files sent together (a month's LSOA, ward and borough files; several
    police.uk months), checked as one: every file's errors, or one preview of them all.

    Each level's month may come from one file only, so every file's preview (made against what
    is current now) is exactly what publishing them together changes.
    """
    members: list[tuple[str, Checked]] = []
    errors = ErrorLog()
    done = 0
    for path in paths:
        report = None if on_row is None else (lambda n, before=done: on_row(before + n))
        try:
            checked = check_file(path=path, kind=member_kind(path, kind=kind), on_row=report)
        except UploadErrors as many:
            for error in many.errors:
                errors.add(error)
            errors.count += many.error_count - len(many.errors)
        except UploadError as error:
            errors.add(error)
        else:
            checked.plan = None  # only the preview is kept: the plans of big files are large
            members.append((path.name, checked))
        done += line_count(path)
    _check_one_file_per_month(members, errors)
    errors.raise_if_any()
    months = {
        state: sorted({m for _, c in members for m in c.preview[f"months_{state}"]})
        for state in ("added", "restated")
    }
    return Checked(
        kind=kind,
        plan=None,
        source="",
        force="",
        level="",
        rows=sum(c.rows for _, c in members),
        warnings=[f"{name}: {warning}" for name, c in members for warning in c.warnings],
        new_categories=sorted({n for _, c in members for n in c.new_categories}),
        preview={
            "bundle": True,
            "files": [
                {"file": name, "detected": _describe(c), "rows": c.rows} | c.preview
                for name, c in members
            ],
            "months_added": months["added"],
            "months_restated": months["restated"],
            "detected": _describe_files([c for _, c in members]),
        },
    )


def _check_one_file_per_month(members: list[tuple[str, Checked]], errors: ErrorLog) -> None:
    seen: dict[tuple[str, str, str, str], str] = {}
    for name, checked in members:
        for month in checked.preview["months_in_file"]:
            key = (checked.source, checked.force, checked.level, month)
            if key in seen:
                errors.add(
                    UploadError(
                        name,
                        f"{month[:7]} of the {checked.source} {checked.level} figures is also "
                        f"in {seen[key]}: send each level's month in one file only",
                        value=month[:7],
                    )
                )
                break
            seen[key] = name


def _describe_files(members: list[Checked]) -> str:
    """E.g. "3 files: mps / metropolitan / lsoa, ward, borough, 2024-03 to 2025-06"."""
    parts: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for checked in members:
        levels, months = parts.setdefault((checked.source, checked.force), ([], []))
        if checked.level not in levels:
            levels.append(checked.level)
        months += checked.preview["months_in_file"]
    text = "; ".join(
        f"{source} / {force} / {', '.join(levels)}, {min(months)[:7]} to {max(months)[:7]}"
        for (source, force), (levels, months) in parts.items()
    )
    return f"{len(members)} files: {text}"[:200]


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
    new = unknown_categories({(major, minor) for _, major, minor in parsed.rows})
    month_index = {m: i for i, m in enumerate(layout.months)}
    current = [month_index[m] for m in plan.current]
    by_area: dict[tuple[int, str], int] = defaultdict(int)
    by_month: dict[tuple[date, str], int] = defaultdict(int)
    for (area_id, major, _), values in parsed.rows.items():
        # Rows that are not a borough count in London only: what is current now at this level
        # (the preview's "before") never holds them, so "after" leaves them out too.
        if area_id == LONDON_ONLY:
            continue
        for i in current:
            if values[i]:
                by_month[(layout.months[i], major)] += values[i]
        by_area[(area_id, major)] += sum(values[i] for i in current)
    level = layout.level
    preview = crime_preview(
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
    majors = major_category_names()
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
    preview = crime_preview(
        source=Release.Source.POLICE_UK,
        force=tally.force,
        level=Level.LSOA,
        months=[tally.month],
        current=[tally.month],
        after_area=by_area,
        after_month=by_month,
    )
    preview["not_shown"] = not_shown_reason(source=Release.Source.POLICE_UK, force=tally.force)
    preview["placed_by_coordinates"] = tally.placed
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


def record_errors(upload: Upload, errors: list[UploadError], *, count: int) -> None:
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
    upload.progress_total = line_count(path)
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
    upload.base_publication = read_current_publication()
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
    if checked.kind == Upload.Kind.BOUNDARIES or checked.preview.get("bundle"):
        return checked.preview["detected"]
    if checked.kind == Upload.Kind.CENSUS:
        kept = checked.preview.get("kept")
        return "Census 2021 denominators" + (f" ({', '.join(kept)} kept)" if kept else "")
    months = checked.preview.get("months_in_file", [])
    span = f"{months[0][:7]} to {months[-1][:7]}" if months else ""
    return f"{checked.source} / {checked.force} / {checked.level}, {span}"


def _reject(upload: Upload, errors: list[UploadError], *, count: int, user) -> Upload:
    record_errors(upload, errors, count=count)
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
