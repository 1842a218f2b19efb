"""Load the real London crime data and census denominators (the site's default data load).

What is loaded, and why:
- crime/mps/*.csv, the five MPS London Datastore files (borough, ward, LSOA; historical and
  most recent 24 months): the Met's own figures, the authority for its 32 boroughs.
- crime/police-uk/city-of-london/*.csv: the City of London Police's complete street-level files,
  the only source for the City (the MPS files never include it).
- NOT crime/police-uk/metropolitan-burglary-only/: a burglary-only filtered copy of the Met's
  police.uk files; the MPS files already are the Met's authority, and loading it would only add
  a second, partial Met source.
- census2021/london_lsoa21_census2021_population_households.csv: residents and households.

Idempotent: a file already loaded (same SHA-256) is skipped, and unchanged denominators are not
rewritten. The areas (London, boroughs, wards, LSOAs) must be loaded first.
"""

from collections.abc import Callable
from pathlib import Path

from crimestats.importers.categories import seed_categories
from crimestats.importers.census import import_census
from crimestats.importers.common import ImportResult
from crimestats.importers.mps import import_mps_file
from crimestats.importers.policeuk import import_policeuk_file

MPS_DIR = "crime/mps"
CITY_DIR = "crime/police-uk/city-of-london"
CENSUS_FILE = "census2021/london_lsoa21_census2021_population_households.csv"


def mps_files(data_dir: Path) -> list[Path]:
    """Historical files first, so the most recent file is the last word on any month."""
    files = sorted((data_dir / MPS_DIR).glob("*.csv"))
    return sorted(files, key=lambda p: ("historical" not in p.name.lower(), p.name))


def load_london_crime(
    *,
    data_dir: Path,
    log: Callable[[str], None] = print,
    progress: bool = True,
    user=None,
) -> dict[str, int]:
    """Load categories, the MPS files, the City's police.uk files and the census denominators."""
    data_dir = Path(data_dir)
    created_categories = seed_categories()
    if created_categories:
        log(f"categories: seeded {created_categories} missing shown categories")
    results: list[ImportResult] = []
    for path in mps_files(data_dir):
        results.append(import_mps_file(path=path, user=user, log=log, progress=progress))
    for path in sorted((data_dir / CITY_DIR).glob("*.csv")):
        results.append(import_policeuk_file(path=path, user=user, log=log, progress=progress))
    census = import_census(paths=[data_dir / CENSUS_FILE], log=log, progress=progress)
    created = [r for r in results if r.created]
    summary = {
        "files": len(results),
        "files_loaded": len(created),
        "files_skipped": len(results) - len(created),
        "releases_created": sum(len(r.releases) for r in created),
        "counts_written": sum(r.counts_written for r in created),
        "rows_read": sum(r.rows_read for r in created),
        "warnings": sum(len(r.warnings) for r in created),
        "categories_created": created_categories + sum(len(r.new_categories) for r in created),
        "denominators_written": 0 if census.unchanged else sum(census.written.values()),
    }
    log(
        "crime: {files_loaded} file(s) loaded, {files_skipped} already loaded; "
        "{releases_created} releases, {counts_written:,} counts, {warnings} warnings".format(
            **summary
        )
    )
    return summary
