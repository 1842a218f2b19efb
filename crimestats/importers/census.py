"""Census 2021 denominators: usual residents and households per LSOA, summed up to London.

Reads either the prepared London file (`lsoa21cd, usual_residents, households, ...`) or the
official Nomis bulk layout (`date, geography, geography code, <measures>`): TS007A's
"Age: Total" gives residents, TS054's "...: All households" gives households. England-and-Wales
files are cut to the LSOAs we have. Nomis publishes one table per measure, so an import may give
only one measure: the other is kept from the current figures, which must then cover every current
LSOA (else the error says which table to upload with it). A measure the files do give must be
given for every current LSOA.

LSOAs are exact. A ward is the sum of its best-fit LSOAs (Area.best_fit_ward: LSOAs do not nest in
wards, so this is an approximation the methodology page states); a borough is the sum of its LSOAs
(they nest exactly); London is the sum of all LSOAs, the City included.
"""

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from areas.importers.errors import UploadError
from areas.models import Area, Level
from crimestats.importers.common import (
    CsvFile,
    ErrorLog,
    column_key,
    parse_count,
    plural,
    read_csv,
)
from crimestats.models import Denominator

RESIDENTS, HOUSEHOLDS = "residents", "households"
MEASURES = (RESIDENTS, HOUSEHOLDS)
# The Nomis table that gives each measure, named in errors so an admin knows what to upload.
NOMIS_TABLE = {
    RESIDENTS: "TS007A (age: 'Age: Total')",
    HOUSEHOLDS: "TS054 (tenure: 'All households')",
}
CODES_SHOWN = 5
GEOGRAPHY_CODE = "geography code"
# A source names the files behind each measure: "Census 2021 (a.csv)" when one set gave both,
# "Census 2021 (residents: a.csv; households: b.csv)" when they differ.
SOURCE = re.compile(r"Census 2021 \((?P<files>.*)\)$")


@dataclass
class CensusResult:
    files: list[str]
    written: dict[str, int]  # level → areas with a denominator
    unchanged: bool
    skipped_codes: int  # rows for areas we do not have (e.g. outside London)
    london_residents: int
    london_households: int
    given: list[str] = field(default_factory=list)  # the measures the files gave
    changed: dict[str, int] = field(default_factory=dict)  # measure → LSOAs whose figure changes
    london_before: tuple[int, int] | None = None

    @property
    def kept(self) -> list[str]:
        return [m for m in MEASURES if m not in self.given]

    @property
    def message(self) -> str:
        if self.unchanged:
            return f"census denominators: already loaded ({', '.join(self.files)})"
        levels = ", ".join(f"{n:,} {level}" for level, n in self.written.items())
        kept = f"; {' and '.join(self.kept)} kept as they were" if self.kept else ""
        return (
            f"census denominators: {levels}; London {self.london_residents:,} residents, "
            f"{self.london_households:,} households{kept}"
        )


def is_census_header(header: Sequence[str]) -> bool:
    """Whether a header row is a census file's (prepared or Nomis), even one missing a column,
    so that a broken Nomis file gets the census importer's precise message."""
    keys = {column_key(name) for name in header}
    return (
        "geographycode" in keys
        or {"lsoa21cd", "usualresidents", "households"} <= keys
        or "agetotal" in keys
        or any(_is_all_households(name) for name in header)
    )


def _is_all_households(name: str) -> bool:
    key = column_key(name)  # so that header names and column keys both work
    return key.endswith("allhouseholds") and "total" in key


def _measures(csv_file: CsvFile) -> tuple[int, dict[str, int]]:
    """The code column and the measure columns a file gives, from its header."""
    keys = [column_key(h) for h in csv_file.header]
    if "lsoa21cd" in keys and "usualresidents" in keys and "households" in keys:
        return keys.index("lsoa21cd"), {
            RESIDENTS: keys.index("usualresidents"),
            HOUSEHOLDS: keys.index("households"),
        }
    measures = {}
    if "agetotal" in keys:
        measures[RESIDENTS] = keys.index("agetotal")
    for i, name in enumerate(csv_file.header):
        if _is_all_households(name):
            measures.setdefault(HOUSEHOLDS, i)
    if "geographycode" in keys:
        if measures:
            return keys.index("geographycode"), measures
        raise UploadError(
            csv_file.name,
            "missing column: neither 'Age: Total' (TS007A) nor '...: All households' (TS054)",
            row=1,
        )
    if measures:
        raise UploadError(
            csv_file.name,
            "missing column: a Nomis file needs its LSOA codes in a 'geography code' column",
            row=1,
            column=GEOGRAPHY_CODE,
        )
    raise UploadError(
        csv_file.name,
        "missing column: expected 'lsoa21cd, usual_residents, households' or the Nomis layout "
        "'date, geography, geography code, ...'",
        row=1,
    )


@dataclass
class _Read:
    values: dict[str, dict[str, int]]  # LSOA code → measure → figure
    given: dict[str, list[str]]  # measure → the files that gave it
    skipped: int


def _read(paths: Sequence[Path], lsoas: dict[str, int], *, progress: bool) -> _Read:
    """Every row of every file, checked; all row errors are reported together."""
    values: dict[str, dict[str, int]] = defaultdict(dict)
    given: dict[str, list[str]] = defaultdict(list)
    given_by: dict[tuple[str, str], str] = {}
    skipped = 0
    errors = ErrorLog()
    for path in paths:
        csv_file = read_csv(path)
        code_column, measures = _measures(csv_file)
        for measure in measures:
            given[measure].append(csv_file.name)
        code_name = csv_file.header[code_column]
        width = len(csv_file.header)
        for line, row in csv_file.rows(progress=progress):
            if len(row) != width:
                errors.add(
                    UploadError(
                        csv_file.name,
                        f"the row has {len(row)} fields where the header has {width}",
                        row=line,
                    )
                )
                continue
            code = row[code_column].strip()
            if code not in lsoas:
                skipped += 1
                continue
            for measure, column in measures.items():
                name = csv_file.header[column]
                if (code, measure) in given_by:
                    errors.add(
                        UploadError(
                            csv_file.name,
                            f"{measure} for this LSOA were already given by "
                            f"{given_by[code, measure]}",
                            row=line,
                            column=code_name,
                            value=code,
                        )
                    )
                    continue
                given_by[(code, measure)] = f"{csv_file.name} row {line}"
                try:
                    values[code][measure] = parse_count(
                        row[column], file=csv_file.name, row=line, column=name
                    )
                except UploadError as error:
                    errors.add(error)
    errors.raise_if_any()
    return _Read(values=values, given=dict(given), skipped=skipped)


def _first(codes: list[str]) -> str:
    shown = ", ".join(codes[:CODES_SHOWN])
    return shown + (", ..." if len(codes) > CODES_SHOWN else "")


def _files_of(source: str, measure: str) -> str:
    """The files a stored source names for one measure (see SOURCE)."""
    match = SOURCE.search(source)
    if not match:
        return source
    files = match["files"]
    for part in files.split("; "):
        label, _, names = part.partition(": ")
        if label == measure:
            return names
    return files


def _source(files: dict[str, str]) -> str:
    if files[RESIDENTS] == files[HOUSEHOLDS]:
        return f"Census 2021 ({files[RESIDENTS]})"
    return "Census 2021 (" + "; ".join(f"{m}: {files[m]}" for m in MEASURES) + ")"


LsoaDenominator = tuple[int, int, int, str, int | None, int | None, str | None]


def denominator_rows(
    lsoas: Iterable[LsoaDenominator], *, source: str
) -> dict[int, tuple[int, int, str]]:
    """Residents, households and source for each LSOA and every current area above them.

    ``lsoas``: (area id, residents, households, source, best-fit ward id, parent id, parent
    level). A ward is the sum of its best-fit LSOAs, a borough of its LSOAs, London of all;
    ``source`` names the census files in the sums' descriptions.
    """
    current = Area.objects.filter(boundary_set__is_current=True)
    wards = set(current.filter(level=Level.WARD).values_list("id", flat=True))
    regions = list(current.filter(level=Level.REGION).values_list("id", flat=True))
    rows: dict[int, tuple[int, int, str]] = {}
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for area_id, residents, households, lsoa_source, ward_id, parent_id, parent_level in lsoas:
        rows[area_id] = (residents, households, lsoa_source)
        targets = list(regions)
        if ward_id in wards:
            targets.append(ward_id)
        if parent_level == Level.BOROUGH:
            targets.append(parent_id)
        for target in targets:
            sums[target][0] += residents
            sums[target][1] += households
    for area_id, (residents, households) in sums.items():
        how = "best-fit LSOAs" if area_id in wards else "LSOAs"
        rows[area_id] = (residents, households, f"sum of {how}, {source}"[:200])
    return rows


def import_census(
    *, paths: Sequence[Path], log: Callable[[str], None] = print, progress: bool = True
) -> CensusResult:
    """Store residents and households for every current LSOA, ward, borough and London.

    Validates everything first; raises UploadError (writing nothing) if a file is wrong or a
    current LSOA lacks a figure. Re-importing the same figures changes nothing.
    """
    names = [p.name for p in paths]
    lsoa_rows = list(
        Area.objects.filter(level=Level.LSOA, boundary_set__is_current=True).values_list(
            "code", "id", "best_fit_ward_id", "parent_id", "parent__level"
        )
    )
    lsoas = {code: area_id for code, area_id, *_ in lsoa_rows}
    if not lsoas:
        raise UploadError(", ".join(names), "no current LSOAs: load the areas first")
    read = _read(paths, lsoas, progress=progress)
    values = read.values
    existing = {
        d.area_id: (d.residents, d.households, d.source)
        for d in Denominator.objects.filter(area__boundary_set__is_current=True)
    }
    files: dict[str, str] = {}
    for index, measure in enumerate(MEASURES):
        if measure in read.given:
            files[measure] = ", ".join(read.given[measure])
            missing = sorted(code for code in lsoas if measure not in values.get(code, {}))
            if missing:
                raise UploadError(
                    files[measure],
                    f"no {measure} figure for {plural(len(missing), 'current LSOA')}: "
                    "the file must cover every LSOA",
                    value=_first(missing),
                )
            continue
        missing = sorted(code for code, area_id in lsoas.items() if area_id not in existing)
        if missing:
            raise UploadError(
                ", ".join(names),
                f"the upload gives no {measure} figures, and there is no current {measure} "
                f"figure for {plural(len(missing), 'current LSOA')} to keep: upload Nomis "
                f"table {NOMIS_TABLE[measure]} together with this file (both in one zip, or "
                "both selected at once)",
                column=measure,
                value=_first(missing),
            )
        for code, area_id in lsoas.items():
            values[code][measure] = existing[area_id][index]
        files[measure] = ", ".join(
            sorted({_files_of(existing[area_id][2], measure) for area_id in lsoas.values()})
        )
    current = Area.objects.filter(boundary_set__is_current=True)
    source = _source(files)[:200]
    changed = dict.fromkeys(MEASURES, 0)
    lsoa_values = []
    for code, area_id, ward_id, parent_id, parent_level in lsoa_rows:
        residents, households = values[code][RESIDENTS], values[code][HOUSEHOLDS]
        lsoa_values.append(
            (area_id, residents, households, source, ward_id, parent_id, parent_level)
        )
        before = existing.get(area_id)
        for index, measure in enumerate(MEASURES):
            if before is None or before[index] != (residents, households)[index]:
                changed[measure] += 1
    rows = denominator_rows(lsoa_values, source=source)
    levels = dict(current.filter(id__in=rows).values_list("id", "level"))
    written: dict[str, int] = defaultdict(int)
    for area_id in rows:
        written[levels[area_id]] += 1
    region = current.filter(level=Level.REGION).values_list("id", flat=True).first()
    london = rows[region][:2] if region in rows else (0, 0)
    london_before = existing.get(region) if region is not None else None
    result = CensusResult(
        files=names,
        written=dict(written),
        unchanged=existing == rows,
        skipped_codes=read.skipped,
        london_residents=london[0],
        london_households=london[1],
        given=[m for m in MEASURES if m in read.given],
        changed=changed,
        london_before=london_before[:2] if london_before else None,
    )
    if not result.unchanged:
        with transaction.atomic():
            Denominator.objects.filter(area__boundary_set__is_current=True).delete()
            Denominator.objects.bulk_create(
                [
                    Denominator(area_id=a, residents=r, households=h, source=s)
                    for a, (r, h, s) in rows.items()
                ],
                batch_size=5000,
            )
    log(result.message)
    return result
