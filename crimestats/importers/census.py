"""Census 2021 denominators: usual residents and households per LSOA, summed up to London.

Reads either the prepared London file (`lsoa21cd, usual_residents, households, ...`) or the
official Nomis bulk layout (`date, geography, geography code, <measures>`): TS007A's
"Age: Total" gives residents, TS054's "...: All households" gives households. England-and-Wales
files are cut to the LSOAs we have. Every current LSOA must get both figures.

LSOAs are exact. A ward is the sum of its best-fit LSOAs (Area.best_fit_ward: LSOAs do not nest in
wards, so this is an approximation the methodology page states); a borough is the sum of its LSOAs
(they nest exactly); London is the sum of all LSOAs, the City included.
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from areas.importers.errors import UploadError
from areas.models import Area, Level
from crimestats.importers.common import CsvFile, column_key, parse_count, read_csv
from crimestats.models import Denominator

RESIDENTS, HOUSEHOLDS = "residents", "households"


@dataclass
class CensusResult:
    files: list[str]
    written: dict[str, int]  # level → areas with a denominator
    unchanged: bool
    skipped_codes: int  # rows for areas we do not have (e.g. outside London)
    london_residents: int
    london_households: int

    @property
    def message(self) -> str:
        if self.unchanged:
            return f"census denominators: already loaded ({', '.join(self.files)})"
        levels = ", ".join(f"{n:,} {level}" for level, n in self.written.items())
        return (
            f"census denominators: {levels}; London {self.london_residents:,} residents, "
            f"{self.london_households:,} households"
        )


def _measures(csv_file: CsvFile) -> tuple[int, dict[str, int]]:
    """The code column and the measure columns a file gives, from its header."""
    keys = [column_key(h) for h in csv_file.header]
    if "lsoa21cd" in keys and "usualresidents" in keys and "households" in keys:
        return keys.index("lsoa21cd"), {
            RESIDENTS: keys.index("usualresidents"),
            HOUSEHOLDS: keys.index("households"),
        }
    if "geographycode" in keys:
        measures = {}
        if "agetotal" in keys:
            measures[RESIDENTS] = keys.index("agetotal")
        for i, name in enumerate(csv_file.header):
            lowered = name.lower()
            if lowered.endswith("all households") and "total" in lowered:
                measures.setdefault(HOUSEHOLDS, i)
        if measures:
            return keys.index("geographycode"), measures
        raise UploadError(
            csv_file.name,
            "missing column: neither 'Age: Total' (TS007A) nor '...: All households' (TS054)",
            row=1,
        )
    raise UploadError(
        csv_file.name,
        "missing column: expected 'lsoa21cd, usual_residents, households' or the Nomis layout "
        "'date, geography, geography code, ...'",
        row=1,
    )


def _read(
    paths: Sequence[Path], lsoas: dict[str, int], *, progress: bool
) -> tuple[dict[str, dict[str, int]], int]:
    values: dict[str, dict[str, int]] = defaultdict(dict)
    given_by: dict[tuple[str, str], str] = {}
    skipped = 0
    for path in paths:
        csv_file = read_csv(path)
        code_column, measures = _measures(csv_file)
        width = len(csv_file.header)
        for line, row in csv_file.rows(progress=progress):
            if len(row) != width:
                raise UploadError(
                    csv_file.name,
                    f"the row has {len(row)} fields where the header has {width}",
                    row=line,
                )
            code = row[code_column].strip()
            if code not in lsoas:
                skipped += 1
                continue
            for measure, column in measures.items():
                name = csv_file.header[column]
                if (code, measure) in given_by:
                    raise UploadError(
                        csv_file.name,
                        f"{measure} for this LSOA were already given by {given_by[code, measure]}",
                        row=line,
                        column=name,
                        value=code,
                    )
                given_by[(code, measure)] = f"{csv_file.name} row {line}"
                values[code][measure] = parse_count(
                    row[column], file=csv_file.name, row=line, column=name
                )
    return values, skipped


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
    values, skipped = _read(paths, lsoas, progress=progress)
    for code in sorted(lsoas):
        for measure in (RESIDENTS, HOUSEHOLDS):
            if measure not in values.get(code, {}):
                raise UploadError(
                    ", ".join(names), f"no {measure} figure for a current LSOA", value=code
                )
    current = Area.objects.filter(boundary_set__is_current=True)
    wards = set(current.filter(level=Level.WARD).values_list("id", flat=True))
    regions = list(current.filter(level=Level.REGION).values_list("id", flat=True))
    source = f"Census 2021 ({', '.join(names)})"[:200]
    rows: dict[int, tuple[int, int, str]] = {}
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for code, area_id, ward_id, parent_id, parent_level in lsoa_rows:
        residents, households = values[code][RESIDENTS], values[code][HOUSEHOLDS]
        rows[area_id] = (residents, households, source)
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
    levels = dict(current.filter(id__in=rows).values_list("id", "level"))
    written: dict[str, int] = defaultdict(int)
    for area_id in rows:
        written[levels[area_id]] += 1
    london = sums[regions[0]] if regions else [0, 0]
    existing = {
        d.area_id: (d.residents, d.households, d.source)
        for d in Denominator.objects.filter(area__boundary_set__is_current=True)
    }
    result = CensusResult(
        files=names,
        written=dict(written),
        unchanged=existing == rows,
        skipped_codes=skipped,
        london_residents=london[0],
        london_households=london[1],
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
