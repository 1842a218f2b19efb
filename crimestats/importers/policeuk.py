"""police.uk street-level CSVs: one force, one month, one record per crime, counted by LSOA.

Records are counted per (LSOA code, crime type) for the file's month, as a release at LSOA
level whose force is the "Reported by" value. Crime types map to our categories through
CategoryAlias ("Burglary" → BURGLARY, ...); a type without an alias becomes a hidden major
category of its own name. Coordinates and crime ids are never stored.

Decision (docs/data-decisions.md): a force's records are stored only for LSOAs in the boroughs
that force polices: the City of London Police → the City's 6 LSOAs (E09000001); the Met → the 32
other boroughs. Counting the City Police's records "just over the boundary" into a Camden or
Westminster LSOA would mix two forces' data there (the MPS files never include City crimes).
Those records, and records with LSOA codes outside London, are counted and reported in the
release's warnings, not stored. So are records without a location (unlocated). Records with
2011-vintage London LSOA codes (E01-shaped, not in the current 2021 set; told apart from codes
outside London by their LSOA name, which starts with the borough's name) are placed by their
coordinates into the current LSOAs (crimestats/importers/vintage_2011.py), then pass the same
force check as every other record.

For the City of London Police the file ALSO gives a second release, level borough, with the
City's own borough count (E09000001 = sum of its LSOAs), so the City's borough page has figures.
CurrentMonth is keyed by source + force + level, so a police.uk Met file never replaces MPS data.
"""

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from django.db import transaction

from areas.importers.errors import UploadError
from areas.models import Area, Level
from crimestats.importers.categories import POLICE_UK, CategoryBook
from crimestats.importers.common import (
    CsvFile,
    ErrorLog,
    ImportResult,
    check_not_formula,
    column_key,
    current_boroughs,
    name_key,
    plural,
    read_csv,
)
from crimestats.importers.vintage_2011 import Unplaced2011, coordinates
from crimestats.importers.writer import ReleaseData, already_loaded, write_releases
from crimestats.models import Release
from crimestats.sources import CITY_OF_LONDON, CITY_POLICE, MET

SOURCE = Release.Source.POLICE_UK
LAYOUT = "police-uk-street"
COLUMNS = [
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
]
LSOA_CODE = re.compile(r"^[EW]01\d{6}$")


def boroughs_policed_by(force: str, boroughs: dict[str, int]) -> set[str]:
    """Borough codes whose crimes this force records (none for forces outside London)."""
    if force == CITY_POLICE:
        return {CITY_OF_LONDON} & set(boroughs)
    if force == MET:
        return set(boroughs) - {CITY_OF_LONDON}
    return set()


def _columns(csv_file: CsvFile) -> dict[str, int]:
    have = {column_key(h): i for i, h in enumerate(csv_file.header)}
    index = {}
    for name in COLUMNS:
        if column_key(name) not in have:
            raise UploadError(csv_file.name, f"missing column {name!r}", row=1, column=name)
        index[name] = have[column_key(name)]
    return index


def _month(value: str, *, file: str, row: int) -> date:
    match = re.fullmatch(r"(\d{4})-(\d{2})", value.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise UploadError(file, "the month must be YYYY-MM", row=row, column="Month", value=value)
    return date(int(match[1]), int(match[2]), 1)


class _Tally:
    """Counts of one file's records: stored ones by (LSOA, crime type), the rest by reason."""

    def __init__(self) -> None:
        self.located: Counter[tuple[str, str]] = Counter()
        self.unlocated = 0
        self.other_force: Counter[str] = Counter()  # borough code → records
        self.outside = 0
        self.vintage_2011 = Unplaced2011()
        self.placed = 0  # 2011-coded records placed by coordinates and stored
        self.placed_elsewhere = 0  # ... placed in another force's LSOAs, not stored
        self.rows = 0
        self.month: date | None = None
        self.force: str | None = None


def _tally(csv_file: CsvFile, *, progress: bool) -> _Tally:
    """Validate every record and count it into exactly one bucket."""
    file = csv_file.name
    col = _columns(csv_file)
    width = len(csv_file.header)
    lsoa_borough = dict(
        Area.objects.filter(level=Level.LSOA, boundary_set__is_current=True).values_list(
            "code", "parent__code"
        )
    )
    borough_names = {name_key(name) for _, _, name in current_boroughs()}
    tally = _Tally()
    errors = ErrorLog()
    for line, row in csv_file.rows(progress=progress):
        try:
            _tally_row(
                line,
                row,
                file=file,
                col=col,
                width=width,
                tally=tally,
                lsoa_borough=lsoa_borough,
                borough_names=borough_names,
            )
        except UploadError as error:
            errors.add(error)
    if not tally.rows:
        raise UploadError(file, "the file has a header but no data rows", row=2)
    errors.raise_if_any()
    if not tally.force:
        raise UploadError(file, "empty value", row=2, column="Reported by", value="")
    # Split located records by whether their borough is this force's.
    boroughs = {code: area_id for area_id, code, _ in current_boroughs()}
    own = boroughs_policed_by(tally.force, boroughs)
    if not own:
        raise UploadError(
            file,
            "this force polices no London borough: nothing to import",
            row=2,
            column="Reported by",
            value=tally.force,
        )
    for (code, crime_type), n in list(tally.located.items()):
        borough = lsoa_borough[code]
        if borough not in own:
            tally.other_force[borough or "?"] += n
            del tally.located[(code, crime_type)]
    for (code, crime_type), n in tally.vintage_2011.place().items():
        borough = lsoa_borough[code]
        if borough in own:
            tally.located[(code, crime_type)] += n
            tally.placed += n
        else:
            tally.other_force[borough or "?"] += n
            tally.placed_elsewhere += n
    return tally


def _tally_row(
    line: int,
    row: list[str],
    *,
    file: str,
    col: dict[str, int],
    width: int,
    tally: _Tally,
    lsoa_borough: dict[str, str],
    borough_names: set[str],
) -> None:
    """Check one record and count it; raises UploadError if it is wrong."""
    if len(row) != width:
        raise UploadError(
            file, f"the row has {len(row)} fields where the header has {width}", row=line
        )
    tally.rows += 1
    month = _month(row[col["Month"]], file=file, row=line)
    force = row[col["Reported by"]].strip()
    if tally.month is None:
        tally.month, tally.force = month, force
    if month != tally.month:
        raise UploadError(
            file,
            f"a file holds one month: this row's differs from {tally.month:%Y-%m}",
            row=line,
            column="Month",
            value=row[col["Month"]],
        )
    if force != tally.force:
        raise UploadError(
            file,
            f"a file holds one force: this row's differs from {tally.force!r}",
            row=line,
            column="Reported by",
            value=force,
        )
    crime_type = row[col["Crime type"]].strip()
    if not crime_type:
        raise UploadError(file, "empty value", row=line, column="Crime type", value="")
    check_not_formula(crime_type, file=file, row=line, column="Crime type")
    code = row[col["LSOA code"]].strip()
    if not code:
        tally.unlocated += 1
    elif not LSOA_CODE.match(code):
        raise UploadError(file, "not an LSOA code", row=line, column="LSOA code", value=code)
    elif code in lsoa_borough:
        tally.located[(code, crime_type)] += 1
    elif _borough_of_name(row[col["LSOA name"]]) in borough_names:
        point = coordinates(row, col=col, file=file, line=line)
        tally.vintage_2011.add(point=point, crime_type=crime_type)
    else:
        tally.outside += 1


def _borough_of_name(lsoa_name: str) -> str:
    """The borough part of an LSOA name such as "Camden 027B"."""
    return name_key(re.sub(r"\s+\d{3}[A-Z]$", "", lsoa_name.strip()))


def _warnings(tally: _Tally) -> list[str]:
    warnings = []
    if tally.unlocated:
        warnings.append(f"{plural(tally.unlocated, 'record')} have no location (unlocated)")
    if tally.other_force:
        where = ", ".join(f"{code}: {n}" for code, n in sorted(tally.other_force.items()))
        warnings.append(
            f"{plural(sum(tally.other_force.values()), 'record')} in LSOAs policed by another "
            f"force, not stored ({where})"
        )
    if tally.outside:
        warnings.append(f"{plural(tally.outside, 'record')} with LSOA codes outside London")
    if tally.placed or tally.placed_elsewhere:
        warnings.append(
            f"{plural(tally.placed + tally.placed_elsewhere, 'record')} with 2011 LSOA codes not "
            f"in the current (2021) set placed in current LSOAs by their coordinates "
            f"({tally.placed} stored, {tally.placed_elsewhere} in LSOAs policed by another force)"
        )
    unplaced = tally.vintage_2011
    if unplaced.no_coordinates or unplaced.outside:
        warnings.append(
            f"{plural(unplaced.no_coordinates + unplaced.outside, 'record')} with 2011 LSOA "
            f"codes not in the current (2021) set could not be placed, not stored "
            f"({unplaced.no_coordinates} without coordinates, {unplaced.outside} in no current "
            "LSOA)"
        )
    return warnings


@dataclass
class PoliceUkPlan:
    """A validated police.uk file, ready to write."""

    csv_file: CsvFile
    existing: Release | None
    tally: _Tally | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def level(self) -> str:
        return Level.LSOA


def plan_policeuk_file(*, path: Path, progress: bool = True) -> PoliceUkPlan:
    """Read and validate every record without writing anything (UploadErrors lists them all)."""
    csv_file = read_csv(path)
    _columns(csv_file)
    existing = already_loaded(source=SOURCE, level=Level.LSOA, checksum=csv_file.checksum)
    plan = PoliceUkPlan(csv_file=csv_file, existing=existing)
    if existing is None:
        plan.tally = _tally(csv_file, progress=progress)
        plan.warnings = _warnings(plan.tally)
    return plan


def import_policeuk_file(
    *,
    path: Path,
    user=None,
    log: Callable[[str], None] = print,
    progress: bool = True,
    plan: PoliceUkPlan | None = None,
) -> ImportResult:
    """Validate a police.uk street-level file and store its LSOA counts (and the City's total).

    Importing a file already loaded (same SHA-256) does nothing. Raises UploadError before
    writing anything if any record is wrong.
    """
    if plan is None:
        plan = plan_policeuk_file(path=path, progress=progress)
    csv_file = plan.csv_file
    result = ImportResult(file=csv_file.name, created=False)
    if plan.existing is not None:
        result.releases = [plan.existing]
        log(result.message)
        return result
    tally, warnings = plan.tally, list(plan.warnings)
    month = tally.month
    lsoa_ids = dict(
        Area.objects.filter(level=Level.LSOA, boundary_set__is_current=True).values_list(
            "code", "id"
        )
    )
    with transaction.atomic():
        book = CategoryBook()
        counts: dict[tuple[int, int], list[int]] = {}
        for (code, crime_type), n in tally.located.items():
            key = (lsoa_ids[code], book.for_source(POLICE_UK, crime_type).id)
            counts[key] = [counts.get(key, [0])[0] + n]
        if book.new:
            warnings.append(f"new categories (hidden until shown): {', '.join(book.new)}")
        lsoa = ReleaseData(
            source=SOURCE,
            force=tally.force,
            level=Level.LSOA,
            layout=LAYOUT,
            months=[month],
            counts=counts,
            current_months=[month],
            warnings=warnings,
            row_count=tally.rows,
        )
        releases = [lsoa]
        if tally.force == CITY_POLICE:
            releases.append(replace(lsoa, level=Level.BOROUGH, counts=_city_total(counts)))
        write_releases(
            result=result,
            releases=releases,
            csv_file=csv_file,
            user=user,
            rows_read=tally.rows,
            warnings=warnings,
            new_categories=book.new,
            log=log,
        )
    return result


def _city_total(counts: dict[tuple[int, int], list[int]]) -> dict[tuple[int, int], list[int]]:
    """The City's borough count per category: the sum over its LSOAs (all stored LSOAs are its)."""
    city = Area.objects.get(
        level=Level.BOROUGH, boundary_set__is_current=True, code=CITY_OF_LONDON
    ).id
    totals: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0])
    for (_, category_id), (n,) in counts.items():
        totals[(city, category_id)][0] += n
    return dict(totals)
