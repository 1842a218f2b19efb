"""The ONS LSOA → ward → local authority best-fit lookup (CSV), read and checked before any write.

Rows are numbered as lines of the file (the header is line 1), as a spreadsheet shows them.
Only rows of the wanted authorities (London: E09…) are checked and kept; the rest of England and
Wales is skipped.
"""

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from areas.importers.boundaries import check_code
from areas.importers.errors import UploadError
from areas.importers.fields import find_field
from areas.models import Level

COLUMNS = {
    "lsoa_code": (r"LSOA\d{2}CD",),
    "ward_code": (r"WD\d{2}CD",),
    "ward_name": (r"WD\d{2}NM",),
    "lad_code": (r"LAD\d{2}CD", r"LA\d{2}CD"),
}


@dataclass(frozen=True)
class WardInfo:
    code: str
    name: str
    borough_code: str


@dataclass(frozen=True)
class LsoaWardLookup:
    """Best-fit ward of each LSOA and each ward's name and borough, for the kept authorities."""

    file: str
    ward_of_lsoa: dict[str, str]
    wards: dict[str, WardInfo]
    columns: dict[str, str]


def read_lsoa_ward_lookup(*, path: Path, lad_prefix: str = "E09") -> LsoaWardLookup:
    """Read the lookup; UploadError (line, column, value) for anything wrong in a kept row."""
    name = path.name
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UploadError(name, f"not UTF-8 text ({error.reason} at byte {error.start})") from error
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, [])
    columns: dict[str, str] = {}
    for key, patterns in COLUMNS.items():
        found = find_field(fields=header, patterns=patterns)
        if found is None:
            wanted = " or ".join(p.replace(r"\d{2}", "yy") for p in patterns)
            raise UploadError(name, f"no {wanted} column", 1, None, ", ".join(header))
        columns[key] = found
    index = {key: header.index(column) for key, column in columns.items()}
    ward_of_lsoa: dict[str, str] = {}
    wards: dict[str, WardInfo] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise UploadError(name, f"{len(row)} columns, the header has {len(header)}", line)
        lad = row[index["lad_code"]].strip().upper()
        if not lad.startswith(lad_prefix):
            continue
        lad = check_code(
            code=lad, level=Level.BOROUGH, file=name, row=line, column=columns["lad_code"]
        )
        lsoa = check_code(
            code=row[index["lsoa_code"]],
            level=Level.LSOA,
            file=name,
            row=line,
            column=columns["lsoa_code"],
        )
        ward = check_code(
            code=row[index["ward_code"]],
            level=Level.WARD,
            file=name,
            row=line,
            column=columns["ward_code"],
        )
        ward_name = row[index["ward_name"]].strip()
        if not ward_name:
            raise UploadError(name, "the ward name is empty", line, columns["ward_name"], "")
        if lsoa in ward_of_lsoa:
            raise UploadError(
                name,
                "the LSOA appears twice (one best-fit ward each)",
                line,
                columns["lsoa_code"],
                lsoa,
            )
        ward_of_lsoa[lsoa] = ward
        info = WardInfo(code=ward, name=ward_name, borough_code=lad)
        known = wards.setdefault(ward, info)
        if known != info:
            column = columns["ward_name"] if known.name != ward_name else columns["lad_code"]
            value = ward_name if known.name != ward_name else lad
            raise UploadError(
                name,
                f"ward {ward} has another name or borough on an earlier line "
                f"({known.name}, {known.borough_code})",
                line,
                column,
                value,
            )
    if not ward_of_lsoa:
        raise UploadError(name, f"no rows for local authorities {lad_prefix}…")
    return LsoaWardLookup(file=name, ward_of_lsoa=ward_of_lsoa, wards=wards, columns=columns)
