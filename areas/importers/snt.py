"""The Met's Safer Neighbourhoods teams (neighbourhoods/met_snt_neighbourhoods_679.csv).

Names and ids come from the file; links are made from the URL patterns in the data README as
defaults for staff to confirm. A team staff have edited keeps its links and contacts.
"""

import csv
import re
from datetime import date
from pathlib import Path

from django.db import transaction
from django.utils.text import slugify

from areas.importers.errors import UploadError
from areas.models import SaferNeighbourhoodTeam

COLUMNS = (
    "policeuk_neighbourhood_id",
    "ward_code",
    "WD24NM",
    "snt_name",
    "LAD24CD",
    "LAD24NM",
    "snt_last_seen_in_dashboard",
)
WARD_CODE = re.compile(r"E05\d{6}")
BOROUGH_CODE = re.compile(r"E09\d{6}")
MET_URL = "https://www.met.police.uk/a/your-area/met/{borough}/{ward}/"
POLICE_UK_URL = "https://www.police.uk/pu/your-area/metropolitan-police-service/{neighbourhood}/"


def url_slug(name: str) -> str:
    """The usual slug of a name in the Met's and police.uk's URLs ("&" becomes "and")."""
    return slugify(name.replace("&", " and "))


def _row_error(path: Path, reason: str, number: int, column: str, value: str) -> UploadError:
    return UploadError(path.name, reason, number, column, value)


def read_snt_file(*, path: Path) -> list[dict]:
    """Every team in the file, checked; raises UploadError on the first bad row."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise UploadError(path.name, "missing column", 1, missing[0])
        teams, seen = [], set()
        for number, row in enumerate(reader, start=2):
            for column in ("policeuk_neighbourhood_id", "snt_name", "WD24NM", "LAD24NM"):
                if not row[column].strip():
                    raise _row_error(path, "empty", number, column, row[column])
            ward = row["ward_code"].strip().upper()
            if not WARD_CODE.fullmatch(ward):
                raise _row_error(path, "not a ward code (E05...)", number, "ward_code", ward)
            if ward in seen:
                raise _row_error(path, "ward appears twice", number, "ward_code", ward)
            if not BOROUGH_CODE.fullmatch(row["LAD24CD"].strip()):
                raise _row_error(path, "not a borough code", number, "LAD24CD", row["LAD24CD"])
            seen_text = row["snt_last_seen_in_dashboard"].strip()
            try:
                last_seen = date.fromisoformat(seen_text) if seen_text else None
            except ValueError:
                raise _row_error(
                    path, "not a date (YYYY-MM-DD)", number, "snt_last_seen_in_dashboard", seen_text
                ) from None
            seen.add(ward)
            teams.append(
                {
                    "ward_code": ward,
                    "policeuk_id": row["policeuk_neighbourhood_id"].strip(),
                    "name": row["snt_name"].strip(),
                    "ward_name": row["WD24NM"].strip(),
                    "borough_name": row["LAD24NM"].strip(),
                    "last_seen": last_seen,
                }
            )
    return teams


def import_snt_teams(*, path: Path, log=print) -> dict[str, int]:
    """Create or update every team from the file; staff-edited teams keep their links."""
    teams = read_snt_file(path=Path(path))
    existing = {t.ward_code: t for t in SaferNeighbourhoodTeam.objects.all()}
    created, updated, unchanged = [], [], 0
    for team in teams:
        defaults = {
            "met_url": MET_URL.format(
                borough=url_slug(team["borough_name"]), ward=url_slug(team["name"])
            ),
            "police_uk_url": POLICE_UK_URL.format(neighbourhood=url_slug(team["name"])),
        }
        current = existing.get(team["ward_code"])
        if current is None:
            created.append(SaferNeighbourhoodTeam(**team, **defaults))
            continue
        wanted = team if current.edited_by_staff else team | defaults
        if any(getattr(current, key) != value for key, value in wanted.items()):
            for key, value in wanted.items():
                setattr(current, key, value)
            updated.append(current)
        else:
            unchanged += 1
    fields = ["policeuk_id", "name", "ward_name", "borough_name", "last_seen", "met_url"]
    with transaction.atomic():
        SaferNeighbourhoodTeam.objects.bulk_create(created, batch_size=1000)
        SaferNeighbourhoodTeam.objects.bulk_update(
            updated, [*fields, "police_uk_url"], batch_size=1000
        )
    summary = {"snt_created": len(created), "snt_updated": len(updated), "snt_unchanged": unchanged}
    log(f"Safer Neighbourhoods teams: {summary}")
    return summary
