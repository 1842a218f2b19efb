"""The Met's London Datastore crime files: wide layout, one column per YYYYMM month.

Level and layout come from the header, never the file name: an `LSOA Code` column makes an
LSOA file, `WardCode` a ward file, `BoroughName` a borough file; "most recent 24 months" and
"Historical" files differ only in their months. Counts are stored at the minor category.

Rules the real files need:
- Borough files name boroughs (not codes). Rows whose name is not a borough ("Unknown", the
  historical "London Heathrow and London City Airports") are counted into London only. The
  borough file also gives London (E12000007) as a release of its own (level region): the sum of
  ALL its rows, so London's figures are the Met's own total.
- In the historical ward file Heathrow Villages appears twice per category, once under
  "Hillingdon" and once under "Aviation Security (SO18)" (the Met moved its policing in 2023).
  Rows for the same ward and category that differ only in that borough column are summed (and
  reported); the same ward, category and borough twice is an error.
- Incomplete months: a month whose file total is far below its neighbours' (the ward 24-month
  file's first column, 2024-03, holds 47 crimes against ~73,000) is stored for the record and
  reported in the release's warnings, but NOT made current: that level keeps whichever release
  was current for the month before, or has no data for it.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from django.db import transaction

from areas.importers.errors import UploadError
from areas.models import Level
from crimestats.importers.categories import CategoryBook
from crimestats.importers.common import (
    GSS_CODE,
    CsvFile,
    ErrorLog,
    ImportResult,
    UploadErrors,
    check_area_code,
    check_not_formula,
    column_key,
    current_area_ids,
    current_boroughs,
    fast_counts,
    incomplete_months,
    london_region_id,
    months_text,
    name_key,
    next_month,
    parse_count,
    parse_yyyymm,
    read_csv,
)
from crimestats.importers.writer import ReleaseData, already_loaded, write_releases
from crimestats.models import Release
from crimestats.sources import CITY_OF_LONDON, MET

SOURCE = Release.Source.MPS

# Header names the Datastore has used, compared by column_key (no case, spaces or punctuation).
MAJOR = {"majorcategory", "majortext", "major", "majorclass"}
MINOR = {"minorcategory", "minortext", "minor", "minorclass"}
LSOA_CODE = {"lsoacode", "lsoa21cd", "lsoa11cd", "lsoa"}
WARD_CODE = {"wardcode", "wd22cd", "wd24cd"}
BOROUGH_KEY = {"boroughname", "borough", "boroughcode", "lad22cd", "lad24cd"}
# Descriptive columns: read past, not stored (a ward's borough comes from the areas, not here).
INFO = {"lsoaname", "lsoa21nm", "wardname", "lookupboroughname", "borough", "boroughname"}

# No London area records anywhere near this many crimes of one minor category in one month:
# a bigger number is a corrupt cell (e.g. a row number or a pasted total), not a count.
MAX_COUNT = 1_000_000

LONDON_ONLY = -1  # area key for borough-file rows that are not a borough (e.g. "Unknown")


@dataclass
class WideLayout:
    level: str
    area_column: int
    major_column: int
    minor_column: int
    split_column: int | None  # the ward file's borough column (see the Heathrow rule)
    month_columns: list[int]
    months: list[date]

    @property
    def name(self) -> str:
        return "mps-24-months" if len(self.months) <= 24 else "mps-historical"


def _find(header: list[str], names: set[str]) -> int | None:
    for i, h in enumerate(header):
        if column_key(h) in names:
            return i
    return None


def detect_layout(csv_file: CsvFile) -> WideLayout:
    """Work out level, key columns and months from the header, or raise UploadError."""
    header, file = csv_file.header, csv_file.name
    lsoa, ward = _find(header, LSOA_CODE), _find(header, WARD_CODE)
    if lsoa is not None:
        level, area = Level.LSOA, lsoa
    elif ward is not None:
        level, area = Level.WARD, ward
    else:
        area = _find(header, BOROUGH_KEY)
        if area is None:
            raise UploadError(
                file,
                "missing column: no area column (expected 'LSOA Code', 'WardCode' or "
                "'BoroughName')",
                row=1,
            )
        level = Level.BOROUGH
    major, minor = _find(header, MAJOR), _find(header, MINOR)
    if major is None:
        raise UploadError(file, "missing column 'Major Category' (or 'MajorText')", row=1)
    if minor is None:
        raise UploadError(file, "missing column 'Minor Category' (or 'MinorText')", row=1)
    split = _find(header, {"lookupboroughname"}) if level == Level.WARD else None
    keys = {area, major, minor}
    month_columns, months = [], []
    for i, name in enumerate(header):
        if i in keys:
            continue
        month = parse_yyyymm(name)
        if month is None:
            if column_key(name) in INFO:
                continue
            raise UploadError(
                file, "a month column must be named YYYYMM (e.g. 202403)", row=1, column=name
            )
        if months and month != next_month(months[-1]):
            raise UploadError(
                file,
                f"months must be consecutive and in order: expected "
                f"{next_month(months[-1]):%Y%m} after {months[-1]:%Y%m}",
                row=1,
                column=name,
            )
        month_columns.append(i)
        months.append(month)
    if not months:
        raise UploadError(file, "missing column: no month columns (YYYYMM)", row=1)
    return WideLayout(level, area, major, minor, split, month_columns, months)


class _BoroughNames:
    """Borough name (or code) → Area id; names that are not boroughs return LONDON_ONLY."""

    def __init__(self) -> None:
        self.by_key: dict[str, int] = {}
        self.by_code: dict[str, int] = {}
        self.codes: dict[int, str] = {}
        for area_id, code, name in current_boroughs():
            self.by_key[name_key(name)] = area_id
            self.by_code[code] = area_id
            self.codes[area_id] = code

    def area(self, value: str, *, file: str, row: int, column: str) -> int:
        if GSS_CODE.match(value):
            return check_area_code(
                value, level=Level.BOROUGH, known=self.by_code, file=file, row=row, column=column
            )
        return self.by_key.get(name_key(value), LONDON_ONLY)


@dataclass
class _Parsed:
    rows: dict[tuple[int, str, str], list[int]]  # (area id or LONDON_ONLY, major, minor)
    month_totals: list[int]
    row_count: int
    not_boroughs: dict[str, int]  # borough-file names counted into London only → crimes
    merged: dict[str, int]  # ward code → rows summed by the Heathrow rule


def _parse(
    csv_file: CsvFile, layout: WideLayout, *, progress: bool, on_row: Callable | None = None
) -> _Parsed:
    """One pass over every row and cell: validate, and keep the counts by (area, category)."""
    file, header = csv_file.name, csv_file.header
    width = len(header)
    area_name = header[layout.area_column]
    boroughs = known = None
    if layout.level == Level.BOROUGH:
        boroughs = _BoroughNames()
    else:
        known = current_area_ids(layout.level)
    rows: dict[tuple[int, str, str], list[int]] = {}
    first_seen: dict[tuple, int] = {}
    totals = [0] * len(layout.months)
    not_boroughs: dict[str, int] = defaultdict(int)
    merged: dict[str, int] = defaultdict(int)
    count = 0
    errors = ErrorLog()
    for line, row in csv_file.rows(progress=progress):
        count += 1
        if on_row is not None and count % 5000 == 0:
            on_row(count)
        try:
            _parse_row(
                line,
                row,
                file=file,
                header=header,
                layout=layout,
                width=width,
                area_name=area_name,
                boroughs=boroughs,
                known=known,
                rows=rows,
                first_seen=first_seen,
                totals=totals,
                not_boroughs=not_boroughs,
                merged=merged,
            )
        except UploadErrors as many:
            for error in many.errors:
                errors.add(error)
        except UploadError as error:
            errors.add(error)
    if not count:
        raise UploadError(file, "the file has a header but no data rows", row=2)
    errors.raise_if_any()
    return _Parsed(rows, totals, count, dict(not_boroughs), dict(merged))


def _parse_row(
    line: int,
    row: list[str],
    *,
    file: str,
    header: list[str],
    layout: WideLayout,
    width: int,
    area_name: str,
    boroughs,
    known,
    rows: dict,
    first_seen: dict,
    totals: list[int],
    not_boroughs: dict,
    merged: dict,
) -> None:
    """Validate one row and add it in; raises UploadError (or UploadErrors) if it is wrong."""
    if len(row) != width:
        raise UploadError(
            file, f"the row has {len(row)} fields where the header has {width}", row=line
        )
    value = row[layout.area_column].strip()
    major = row[layout.major_column].strip()
    minor = row[layout.minor_column].strip()
    for column, text in zip(
        (layout.area_column, layout.major_column, layout.minor_column),
        (value, major, minor),
        strict=True,
    ):
        if not text:
            raise UploadError(file, "empty value", row=line, column=header[column], value="")
        check_not_formula(text, file=file, row=line, column=header[column])
    if layout.level == Level.BOROUGH:
        area_id = boroughs.area(value, file=file, row=line, column=area_name)
    else:
        area_id = check_area_code(
            value, level=layout.level, known=known, file=file, row=line, column=area_name
        )
    values = [row[i] for i in layout.month_columns]
    counts = fast_counts(values)
    if counts is None:
        cells = ErrorLog()
        counts = []
        for v, i in zip(values, layout.month_columns, strict=True):
            try:
                counts.append(parse_count(v, file=file, row=line, column=header[i]))
            except UploadError as error:
                cells.add(error)
        cells.raise_if_any()
    if counts and max(counts) > MAX_COUNT:
        raise UploadError(
            file,
            f"the count is implausibly large (over {MAX_COUNT:,} crimes in one month)",
            row=line,
            column=header[layout.month_columns[counts.index(max(counts))]],
            value=str(max(counts)),
        )
    # Rows are keyed by what they mean; non-boroughs by their own name, so that two
    # "Unknown" rows for one category are still caught as duplicates.
    split = row[layout.split_column].strip() if layout.split_column is not None else ""
    identity = (area_id, value if area_id == LONDON_ONLY else "", major, minor, split)
    if identity in first_seen:
        raise UploadError(
            file,
            f"duplicate row: the same area and category as row {first_seen[identity]}",
            row=line,
            column=area_name,
            value=value,
        )
    first_seen[identity] = line
    key = (area_id, major, minor)
    if key in rows:
        # Same ward and category under another borough name (Heathrow Villages): sum.
        rows[key] = [a + b for a, b in zip(rows[key], counts, strict=True)]
        if area_id != LONDON_ONLY:  # non-boroughs all add up into London, as intended
            merged[value] += 1
    else:
        rows[key] = counts
    if area_id == LONDON_ONLY:
        not_boroughs[value] += sum(counts)
    for i, c in enumerate(counts):
        totals[i] += c


def _warnings(
    layout: WideLayout, parsed: _Parsed, met_boroughs: dict[int, str] | None
) -> tuple[list[str], list[date]]:
    """Release warnings, and the months that are complete enough to become current."""
    warnings: list[str] = []
    bad = incomplete_months(dict(zip(layout.months, parsed.month_totals, strict=True)))
    for month, total, reference in bad:
        warnings.append(
            f"{month:%Y-%m}: total {total:,} is far below its neighbouring months' "
            f"(median {reference:,}); treated as incomplete and not made current"
        )
    for name, crimes in sorted(parsed.not_boroughs.items()):
        warnings.append(f"{name!r} is not a borough: its {crimes:,} crimes count in London only")
    for code, n in sorted(parsed.merged.items()):
        warnings.append(
            f"{code}: {n} rows repeat a ward and category under another borough name; "
            f"their counts were summed"
        )
    if met_boroughs:
        missing = set(met_boroughs) - {key[0] for key in parsed.rows}
        if missing:
            codes = ", ".join(sorted(met_boroughs[i] for i in missing))
            warnings.append(f"Met boroughs with no rows in this file: {codes}")
    skipped = {month for month, _, _ in bad}
    return warnings, [m for m in layout.months if m not in skipped]


@dataclass
class MpsPlan:
    """A validated MPS file, ready to write: what the admin previews before publishing."""

    csv_file: CsvFile
    layout: WideLayout
    existing: Release | None
    parsed: _Parsed | None = None
    warnings: list[str] = field(default_factory=list)
    current: list[date] = field(default_factory=list)

    @property
    def level(self) -> str:
        return self.layout.level


def plan_mps_file(
    *, path: Path, progress: bool = True, on_row: Callable[[int], None] | None = None
) -> MpsPlan:
    """Read and validate every row of an MPS file without writing anything.

    Raises UploadError for a problem with the file as a whole (header, encoding), and
    UploadErrors listing every bad row. A file already loaded is returned unparsed.
    """
    csv_file = read_csv(path)
    layout = detect_layout(csv_file)
    existing = already_loaded(source=SOURCE, level=layout.level, checksum=csv_file.checksum)
    plan = MpsPlan(csv_file=csv_file, layout=layout, existing=existing)
    if existing is not None:
        return plan
    plan.parsed = _parse(csv_file, layout, progress=progress, on_row=on_row)
    met_boroughs = None
    if layout.level == Level.BOROUGH:
        met_boroughs = {
            area_id: code for area_id, code, _ in current_boroughs() if code != CITY_OF_LONDON
        }
    plan.warnings, plan.current = _warnings(layout, plan.parsed, met_boroughs)
    return plan


def import_mps_file(
    *,
    path: Path,
    user=None,
    log: Callable[[str], None] = print,
    progress: bool = True,
    plan: MpsPlan | None = None,
) -> ImportResult:
    """Validate a whole MPS file, then store it as one release (two for a borough file).

    Importing a file already loaded (same SHA-256 for this source and level) does nothing.
    Raises UploadError for the first problem found, before anything is written. A `plan`
    from plan_mps_file saves reading the file again.
    """
    if plan is None:
        plan = plan_mps_file(path=path, progress=progress)
    csv_file, layout, parsed = plan.csv_file, plan.layout, plan.parsed
    result = ImportResult(file=csv_file.name, created=False)
    if plan.existing is not None:
        result.releases = [plan.existing]
        log(result.message)
        return result
    warnings, current = list(plan.warnings), plan.current
    with transaction.atomic():
        book = CategoryBook()
        category_ids = {
            (major, minor): book.minor(major, minor).id for _, major, minor in parsed.rows
        }
        counts = {
            (area_id, category_ids[(major, minor)]): values
            for (area_id, major, minor), values in parsed.rows.items()
            if area_id != LONDON_ONLY
        }
        if book.new:
            warnings.append(f"new categories (hidden until shown): {', '.join(book.new)}")
        releases = [
            ReleaseData(
                source=SOURCE,
                force=MET,
                level=layout.level,
                layout=layout.name,
                months=layout.months,
                counts=counts,
                current_months=current,
                warnings=warnings,
                row_count=parsed.row_count,
            )
        ]
        if layout.level == Level.BOROUGH:
            london = _london_counts(parsed, category_ids, london_region_id(csv_file.name))
            releases.append(replace(releases[0], level=Level.REGION, counts=london))
        write_releases(
            result=result,
            releases=releases,
            csv_file=csv_file,
            user=user,
            rows_read=parsed.row_count,
            warnings=warnings,
            new_categories=book.new,
            log=log,
        )
    skipped = [m for m in layout.months if m not in set(current)]
    if skipped:
        log(f"  not made current: {months_text(skipped)}")
    return result


def _london_counts(
    parsed: _Parsed, category_ids: dict[tuple[str, str], int], region_id: int
) -> dict[tuple[int, int], list[int]]:
    """London's counts: every row of the borough file, boroughs and non-boroughs alike."""
    totals: dict[tuple[int, int], list[int]] = {}
    for (_, major, minor), values in parsed.rows.items():
        key = (region_id, category_ids[(major, minor)])
        if key in totals:
            totals[key] = [a + b for a, b in zip(totals[key], values, strict=True)]
        else:
            totals[key] = list(values)
    return totals
