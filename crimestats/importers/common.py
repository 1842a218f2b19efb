"""Shared reading, validation and lookup helpers for the crime and census importers."""

import csv
import hashlib
import io
import re
import statistics
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from tqdm import tqdm

from areas.importers.archives import max_upload_bytes
from areas.importers.errors import UploadError
from areas.models import CODE_PREFIX, Area, Level

GSS_CODE = re.compile(r"^[EWSN]\d{8}$")
LEVEL_BY_PREFIX = {prefix: level for level, prefix in CODE_PREFIX.items()}

# A month is "incomplete" when its total is below this share of the median of its neighbours
# (up to two months either side), and those neighbours are big enough to judge (see below).
INCOMPLETE_SHARE = 0.5
INCOMPLETE_MIN_REFERENCE = 20

# Characters that make a spreadsheet treat a cell as a formula (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Keep at most this many errors in memory; the rest are only counted.
MAX_ERRORS_KEPT = 100_000


class UploadErrors(UploadError):
    """Every problem found in a file: raised once a whole file has been read.

    It is an UploadError whose own fields are the first problem's, so code (and tests) that
    handle one error keep working; `errors` holds them all (`error_count` counts any not kept).
    """

    def __init__(self, errors: list[UploadError], *, error_count: int | None = None) -> None:
        first = errors[0]
        super().__init__(first.file, first.reason, first.row, first.column, first.value)
        self.errors = errors
        self.error_count = error_count if error_count is not None else len(errors)

    def __str__(self) -> str:
        text = super().__str__()
        more = self.error_count - 1
        return text if more <= 0 else f"{text} (and {plural(more, 'more error')})"


class ErrorLog:
    """Collects a file's problems so the admin sees all of them, not only the first."""

    def __init__(self) -> None:
        self.errors: list[UploadError] = []
        self.count = 0

    def add(self, error: UploadError) -> None:
        self.count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(error)

    def __bool__(self) -> bool:
        return self.count > 0

    def raise_if_any(self) -> None:
        if self.count:
            raise UploadErrors(self.errors, error_count=self.count)


def looks_like_formula(value: str) -> bool:
    return value.startswith(FORMULA_START)


def check_not_formula(value: str, *, file: str, row: int, column: str) -> None:
    """Names that a spreadsheet would run as a formula (e.g. `=cmd|...`) are refused."""
    if looks_like_formula(value):
        raise UploadError(
            file,
            "the value looks like a spreadsheet formula (starts with =, +, -, @): refused",
            row=row,
            column=column,
            value=value,
        )


def check_size(path: Path, *, name: str | None = None) -> int:
    """The file's size, or an UploadError when it is over the limit (checked before reading)."""
    size = path.stat().st_size
    limit = max_upload_bytes()
    if size > limit:
        raise UploadError(
            name or path.name,
            f"the file is {size / 1024 / 1024:,.0f} MB: the limit is {limit / 1024 / 1024:,.0f} MB",
        )
    return size


@dataclass
class ImportResult:
    """What one file import did, for logs, the admin and the London load summary."""

    file: str
    created: bool
    releases: list = field(default_factory=list)
    rows_read: int = 0
    counts_written: int = 0
    warnings: list[str] = field(default_factory=list)
    new_categories: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        if not self.created:
            return f"{self.file}: already loaded"
        levels = "+".join(r.level for r in self.releases)
        return (
            f"{self.file}: {levels}, {self.rows_read:,} rows, {self.counts_written:,} counts, "
            f"{len(self.warnings)} warning(s)"
        )


@dataclass
class CsvFile:
    """A decoded CSV file: its name, checksum, header and an iterator over (row number, row)."""

    name: str
    checksum: str
    header: list[str]
    text: str

    def rows(self, *, progress: bool = False) -> Iterator[tuple[int, list[str]]]:
        reader = csv.reader(io.StringIO(self.text, newline=""))
        next(reader)
        total = self.text.count("\n")
        for row in tqdm(
            reader, total=total, desc=self.name[:40], unit="row", **tqdm_opts(progress)
        ):
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line, e.g. at the end of the file
            yield reader.line_num, row


def tqdm_opts(progress: bool) -> dict:
    return {"disable": not (progress and sys.stderr.isatty()), "leave": False}


def read_csv(path: Path) -> CsvFile:
    """Read a UTF-8 CSV (with or without BOM, LF or CRLF) and its SHA-256, or raise UploadError."""
    name = path.name
    check_size(path)
    raw = path.read_bytes()
    if raw.startswith(b"PK\x03\x04"):
        raise UploadError(name, "a zip archive, not a CSV file: upload the CSV inside it", row=1)
    if b"\x00" in raw[:1_000_000]:
        raise UploadError(name, "a binary file, not CSV text", row=1)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise UploadError(
            name, "the file is not UTF-8 text", row=line, value=repr(raw[error.start : error.end])
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        raise UploadError(name, "the file is empty: no header row", row=1)
    header = [h.strip() for h in header]
    if len(header) == 1:
        for delimiter, said in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if delimiter in header[0]:
                raise UploadError(
                    name,
                    f"the columns are separated by {said}: the file must be comma-separated",
                    row=1,
                    value=header[0][:80],
                )
    seen: set[str] = set()
    for h in header:
        if h in seen:
            raise UploadError(name, "the header names this column twice", row=1, column=h)
        seen.add(h)
    return CsvFile(name=name, checksum=hashlib.sha256(raw).hexdigest(), header=header, text=text)


def column_key(name: str) -> str:
    """Header names compared without case, spaces or punctuation: "Major Category" = "major…"."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def name_key(name: str) -> str:
    """Borough names compared without case, "&"/"and", hyphens or "London Borough of"."""
    text = name.lower().replace("&", " and ")
    text = " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())
    for prefix in ("london borough of ", "royal borough of ", "city of "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text


def parse_yyyymm(value: str) -> date | None:
    value = value.strip()
    if not re.fullmatch(r"\d{6}", value):
        return None
    year, month = int(value[:4]), int(value[4:])
    if not (1 <= month <= 12 and 1990 <= year <= 2100):
        return None
    return date(year, month, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def parse_count(value: str, *, file: str, row: int, column: str) -> int:
    """A count must be a non-negative whole number; anything else is an UploadError."""
    text = value.strip()
    if text.isascii() and text.isdigit():
        return int(text)
    if not text:
        reason = "the count is empty"
    elif re.fullmatch(r"-\d+(\.0*)?", text):
        reason = "a count cannot be negative"
    elif re.fullmatch(r"-?\d*\.\d+", text):
        reason = "a count must be a whole number"
    else:
        reason = "the count is not a number"
    raise UploadError(file, reason, row=row, column=column, value=value)


def fast_counts(values: list[str]) -> list[int] | None:
    """The counts of a row when all are plain digits (the usual case), else None."""
    if all(values):
        joined = "".join(values)
        if joined.isascii() and joined.isdigit():
            return list(map(int, values))
    return None


def check_area_code(
    code: str, *, level: str, known: dict[str, int], file: str, row: int, column: str
) -> int:
    """The Area id of a code of the expected level, or an UploadError saying what is wrong."""
    if code in known:
        return known[code]
    if not GSS_CODE.match(code):
        raise UploadError(file, "not an area code", row=row, column=column, value=code)
    other = LEVEL_BY_PREFIX.get(code[:3])
    if other and other != level:
        raise UploadError(
            file,
            f"{article(Level(other).label)} {Level(other).label} code where "
            f"{Level(level).label} codes "
            f"({CODE_PREFIX[level]}…) are expected",
            row=row,
            column=column,
            value=code,
        )
    raise UploadError(
        file,
        f"unknown {Level(level).label} code: not in the current {Level(level).label} boundaries",
        row=row,
        column=column,
        value=code,
    )


def current_area_ids(level: str) -> dict[str, int]:
    """Code → id of the areas of a level in its current boundary set."""
    return dict(
        Area.objects.filter(level=level, boundary_set__is_current=True).values_list("code", "id")
    )


def current_boroughs() -> list[tuple[int, str, str]]:
    """(id, code, name) of the current boroughs."""
    return list(
        Area.objects.filter(level=Level.BOROUGH, boundary_set__is_current=True).values_list(
            "id", "code", "name"
        )
    )


def london_region_id(file: str) -> int:
    ids = current_area_ids(Level.REGION)
    if not ids:
        raise UploadError(file, "London (E12000007) is not loaded: load the areas first")
    return ids.get("E12000007", next(iter(ids.values())))


def incomplete_months(totals: dict[date, int]) -> list[tuple[date, int, int]]:
    """Months whose total is far below their neighbours': (month, total, neighbours' median).

    An incomplete month (e.g. the first column of the Met's ward file holds 47 crimes where its
    neighbours hold ~73,000) would otherwise read as a collapse in crime.
    """
    months = sorted(totals)
    found = []
    for i, month in enumerate(months):
        neighbours = [totals[m] for m in months[max(0, i - 2) : i] + months[i + 1 : i + 3]]
        if not neighbours:
            continue
        reference = statistics.median(neighbours)
        if reference >= INCOMPLETE_MIN_REFERENCE and totals[month] < INCOMPLETE_SHARE * reference:
            found.append((month, totals[month], int(reference)))
    return found


def article(word: str) -> str:
    """ "a" or "an" as the word is said: an LSOA, a Ward."""
    return "an" if word.startswith(("LSOA", "A", "E", "I", "O", "U")) else "a"


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def months_text(months: Iterable[date]) -> str:
    return ", ".join(f"{m:%Y-%m}" for m in months)
