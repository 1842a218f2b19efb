"""Code-Point Open postcodes for London, placed in their LSOA and ward once, by PostGIS.

Files have no header row; the column names are in Doc/Code-Point_Open_Column_Headers.csv.
Only postcodes whose Admin_district_code is a London borough (E09...) are kept. Each one's LSOA
and ward are found by point-in-polygon at import, so a lookup is a single indexed read.
"""

import csv
import hashlib
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from django.db import connection, transaction
from tqdm import tqdm

from areas.importers.errors import UploadError
from areas.models import BoundarySet, Level, Postcode, PostcodeLoad

HEADERS_FILE = "Doc/Code-Point_Open_Column_Headers.csv"
DATA_DIR = "Data/CSV"
COLUMNS = (
    "Postcode",
    "Positional_quality_indicator",
    "Eastings",
    "Northings",
    "Country_code",
    "NHS_regional_HA_code",
    "NHS_HA_code",
    "Admin_county_code",
    "Admin_district_code",
    "Admin_ward_code",
)
# Outward code, then inward code (digit + two letters); e.g. "SW1A 1AA", "E1 6AN".
POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})")
NO_POSITION = "90"  # positional quality 90: the postcode has no coordinates
METHOD = "codepoint-london-1"


@dataclass(frozen=True)
class PostcodeRow:
    postcode: str
    easting: int
    northing: int
    borough_code: str


def normalise(text: str) -> str:
    """Upper case, one space before the inward code when the text is a whole postcode."""
    compact = re.sub(r"\s+", "", text or "").upper()
    match = POSTCODE.fullmatch(compact)
    return f"{match.group(1)} {match.group(2)}" if match else compact


def _check_headers(root: Path) -> None:
    path = root / HEADERS_FILE
    if not path.exists():
        raise UploadError(HEADERS_FILE, "column headers file not found")
    with open(path, newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    names = tuple(rows[-1]) if rows else ()
    if names != COLUMNS:
        raise UploadError(HEADERS_FILE, "columns are not the Code-Point Open ones", len(rows))


def _data_files(root: Path) -> list[Path]:
    files = sorted((root / DATA_DIR).glob("*.csv"))
    if not files:
        raise UploadError(DATA_DIR, "no postcode files in this folder")
    return files


def read_file(path: Path) -> tuple[list[PostcodeRow], int]:
    """London postcodes of one file (all rows checked) and how many had no position."""
    rows, unplaced = [], 0
    with open(path, newline="", encoding="utf-8") as handle:
        for number, record in enumerate(csv.reader(handle), start=1):
            if len(record) != len(COLUMNS):
                raise UploadError(path.name, f"expected {len(COLUMNS)} columns", number)
            text, quality, easting, northing = record[0], record[1], record[2], record[3]
            postcode = normalise(text)
            if not POSTCODE.fullmatch(postcode):
                raise UploadError(path.name, "not a postcode", number, "Postcode", text)
            for column, value in (("Eastings", easting), ("Northings", northing)):
                if not value.isdigit() or int(value) > 1_300_000:
                    raise UploadError(path.name, "not a grid coordinate", number, column, value)
            district = record[8]
            if not district.startswith("E09"):
                continue
            if quality == NO_POSITION or int(easting) == 0:
                unplaced += 1
                continue
            rows.append(PostcodeRow(postcode, int(easting), int(northing), district))
    return rows, unplaced


def _checksum(files: list[Path]) -> str:
    digest = hashlib.sha256(METHOD.encode())
    for path in files:
        digest.update(path.name.encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    # The same file placed against other boundaries gives other answers.
    for level in (Level.LSOA, Level.WARD):
        current = BoundarySet.objects.filter(level=level, is_current=True).first()
        digest.update(f"{level}:{current.checksum if current else ''}".encode())
    return digest.hexdigest()


PLACE_SQL = """
UPDATE areas_postcode p SET {column} = a.code
FROM areas_area a JOIN areas_boundaryset s ON s.id = a.boundary_set_id AND s.is_current
WHERE a.level = %s AND ST_Intersects(a.geometry, p.location)
"""


def import_postcodes(
    *, path: Path, log=print, progress: bool = True, force: bool = False
) -> dict[str, int]:
    """Replace the London postcodes when the files or the boundaries changed; else no-op."""
    started = time.monotonic()
    root = Path(path)
    _check_headers(root)
    files = _data_files(root)
    checksum = _checksum(files)
    last = PostcodeLoad.objects.first()
    if last and last.checksum == checksum and not force:
        log("postcodes: unchanged; nothing to load")
        return {"postcodes": last.postcodes, "postcodes_loaded": 0}
    rows: list[PostcodeRow] = []
    unplaced = 0
    bar = tqdm(files, desc="postcode files", disable=not (progress and sys.stderr.isatty()))
    for file in bar:
        found, missing = read_file(file)
        rows += found
        unplaced += missing
    read = time.monotonic()
    with transaction.atomic():
        Postcode.objects.all().delete()
        with connection.cursor() as cursor:
            with cursor.copy(
                "COPY areas_postcode (postcode, compact, location, lsoa_code, ward_code, "
                "borough_code) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(
                        (
                            row.postcode,
                            row.postcode.replace(" ", ""),
                            f"SRID=27700;POINT({row.easting} {row.northing})",
                            "",
                            "",
                            row.borough_code,
                        )
                    )
            cursor.execute("ANALYZE areas_postcode")
            cursor.execute(PLACE_SQL.format(column="lsoa_code"), [Level.LSOA])
            cursor.execute(PLACE_SQL.format(column="ward_code"), [Level.WARD])
        PostcodeLoad.objects.all().delete()
        PostcodeLoad.objects.create(checksum=checksum, postcodes=len(rows))
    no_lsoa = Postcode.objects.filter(lsoa_code="").count()
    log(
        f"postcodes: {len(rows):,} London postcodes read in {read - started:.1f} s, "
        f"placed in {time.monotonic() - read:.1f} s; {unplaced:,} without a position skipped; "
        f"{no_lsoa:,} outside every LSOA"
    )
    return {"postcodes": len(rows), "postcodes_loaded": len(rows), "postcodes_no_lsoa": no_lsoa}
