"""Load London's geography (region, boroughs, wards, LSOAs) from the shared data directory.

Each level becomes a new current boundary set only when its sources changed: a set's checksum
covers its own files and the checksums of the sets it refers to (LSOAs point at boroughs and
wards, boroughs are made of LSOAs), so a change anywhere reloads exactly what depends on it, and
a second run changes nothing.
"""

import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from tqdm import tqdm

from areas.importers.boundaries import BoundaryFeature, read_boundary_file, read_boundary_files
from areas.importers.errors import UploadError
from areas.importers.lookups import LsoaWardLookup, read_lsoa_ward_lookup
from areas.importers.postcodes import import_postcodes
from areas.importers.snt import import_snt_teams
from areas.importers.ward_kml import read_ward_kml_files
from areas.models import Area, BoundarySet, Level
from areas.services.boundary_sets import NewArea, checksum, create_boundary_set, current_ids
from areas.services.coverage import MAX_SLIVER_AREA, MAX_SLIVER_WIDTH, clean_coverage
from areas.services.display import TOLERANCES, build_display, build_display_from_parts
from areas.services.neighbours import neighbour_pairs, store_neighbours
from areas.services.postgis import union_groups, union_of_set

LONDON_CODE = "E12000007"
LONDON_NAME = "London"
BOROUGH_FILE = "boundaries/boroughs/london-2021-lad22-gen20.shp"
LSOA_DIR = "boundaries/lsoa/LB_shp"
WARD_DIR = "boundaries/wards/policeuk-neighbourhoods-2025-02/metropolitan"
LOOKUP_FILE = "lookups/LSOA_(2021)_to_Electoral_Ward_(2024)_to_LAD_(2024).csv"
POSTCODE_DIR = "postcodes/codepoint-open-2025-10"
SNT_FILE = "neighbourhoods/met_snt_neighbourhoods_679.csv"
# The borough field of the London Datastore LSOA shapefiles.
LSOA_BOROUGH_FIELD = "lad22cd"
# Part of every checksum: changing how sets are made (tolerances, cleaning) reloads them.
METHOD = (
    f"london-areas-1 tolerances={sorted(TOLERANCES.items())} "
    f"slivers={MAX_SLIVER_AREA},{MAX_SLIVER_WIDTH}"
)
LEVEL_ORDER = (Level.BOROUGH, Level.REGION, Level.WARD, Level.LSOA)
SUMMARY_KEYS = {
    Level.REGION: "region",
    Level.BOROUGH: "boroughs",
    Level.WARD: "wards",
    Level.LSOA: "lsoas",
}


@dataclass(frozen=True)
class LondonSources:
    """The files each level is read from, and each level's checksum."""

    data_dir: Path
    borough_file: Path
    lsoa_files: list[Path]
    ward_files: list[Path]
    lookup_file: Path

    @classmethod
    def find(cls, data_dir: Path) -> "LondonSources":
        borough_file, lookup_file = data_dir / BOROUGH_FILE, data_dir / LOOKUP_FILE
        for path in (borough_file, lookup_file, data_dir / LSOA_DIR, data_dir / WARD_DIR):
            if not path.exists():
                raise UploadError(str(path), "not found in the data directory")
        sources = cls(
            data_dir=data_dir,
            borough_file=borough_file,
            lsoa_files=sorted((data_dir / LSOA_DIR).glob("*.shp")),
            ward_files=sorted((data_dir / WARD_DIR).glob("*.kml")),
            lookup_file=lookup_file,
        )
        for folder, files in ((LSOA_DIR, sources.lsoa_files), (WARD_DIR, sources.ward_files)):
            if not files:
                raise UploadError(folder, "no boundary files in this folder")
        return sources

    def checksums(self) -> dict[str, str]:
        boroughs = checksum(paths=[self.borough_file, *self.lsoa_files], parts=[METHOD, "boroughs"])
        region = checksum(parts=[METHOD, "region", LONDON_CODE, LONDON_NAME, boroughs])
        wards = checksum(
            paths=[*self.ward_files, self.lookup_file], parts=[METHOD, "wards", boroughs]
        )
        lsoas = checksum(
            paths=[*self.lsoa_files, self.lookup_file], parts=[METHOD, "lsoas", boroughs, wards]
        )
        return {
            Level.REGION: region,
            Level.BOROUGH: boroughs,
            Level.WARD: wards,
            Level.LSOA: lsoas,
        }

    def relative(self, paths: Iterable[Path]) -> list[str]:
        return [str(p.relative_to(self.data_dir)) for p in paths]


def load_london_areas(
    *, data_dir: Path, log: Callable[[str], None] = print, progress: bool = True
) -> dict[str, int]:
    """Load every London level whose sources changed; return area counts and sets skipped."""
    started = time.monotonic()
    sources = LondonSources.find(Path(data_dir))
    wanted = sources.checksums()
    current = {s.level: s for s in BoundarySet.objects.filter(is_current=True)}
    todo = [
        level
        for level in LEVEL_ORDER
        if level not in current or current[level].checksum != wanted[level]
    ]
    skipped = len(LEVEL_ORDER) - len(todo)
    mismatches = 0
    if todo:
        with transaction.atomic():
            loader = _Loader(sources=sources, checksums=wanted, log=log, progress=progress)
            loader.read(todo)
            log(f"areas: files read and checked in {time.monotonic() - started:.1f} s")
            for level in LEVEL_ORDER:
                if level in todo:
                    mismatches += loader.load(level)
    else:
        log("areas: every boundary set is current; nothing to load")
    summary = {
        key: Area.objects.filter(boundary_set__is_current=True, level=level).count()
        for level, key in SUMMARY_KEYS.items()
    }
    summary["loaded_sets"] = len(todo)
    summary["skipped_sets"] = skipped
    summary["display_neighbour_mismatches"] = mismatches
    # After the boundaries: postcodes are placed in the current LSOAs and wards. Both log
    # their own counts and are no-ops when nothing changed.
    import_postcodes(path=Path(data_dir) / POSTCODE_DIR, log=log, progress=progress)
    import_snt_teams(path=Path(data_dir) / SNT_FILE, log=log)
    log(f"areas: done in {time.monotonic() - started:.1f} s")
    return summary


class _Loader:
    """One London load: reads each file once, checks everything, then writes level by level."""

    def __init__(
        self,
        *,
        sources: LondonSources,
        checksums: dict[str, str],
        log: Callable[[str], None],
        progress: bool,
    ):
        self.sources = sources
        self.checksums = checksums
        self.log = log
        self.progress = progress and sys.stderr.isatty()
        self._boroughs: list[BoundaryFeature] | None = None
        self._lsoas: list[BoundaryFeature] | None = None
        self._wards: list[BoundaryFeature] | None = None
        self._lookup: LsoaWardLookup | None = None

    def load(self, level: str) -> int:
        """Load one level; return the number of neighbour pairs display and full disagree on."""
        started = time.monotonic()
        boundary_set = {
            Level.BOROUGH: self.load_boroughs,
            Level.REGION: self.load_region,
            Level.WARD: self.load_wards,
            Level.LSOA: self.load_lsoas,
        }[level]()
        written = time.monotonic()
        if level == Level.REGION:
            borough_set = BoundarySet.objects.get(level=Level.BOROUGH, is_current=True)
            display = build_display_from_parts(boundary_set=boundary_set, parts_set=borough_set)
        else:
            display = build_display(boundary_set=boundary_set)
        displayed = time.monotonic()
        pairs = store_neighbours(boundary_set=boundary_set)
        # Display geometry is what maps draw: it must show the same neighbours.
        shown = neighbour_pairs(boundary_set=boundary_set, column="display_geometry")
        mismatches = len(pairs ^ shown)
        self.log(
            f"{SUMMARY_KEYS[level]}: {display.areas:,} areas written in {written - started:.1f} s; "
            f"display {display.vertices_full:,} → {display.vertices_display:,} vertices, "
            f"SVG {display.svg_chars / 1024:,.0f} KB in {displayed - written:.1f} s; "
            f"{len(pairs):,} neighbour pairs in {time.monotonic() - displayed:.1f} s"
            + (f"; {mismatches} pairs differ on display geometry" if mismatches else "")
        )
        return mismatches

    # Reading: each file once, all of them checked before the first write

    def read(self, levels: Iterable[str]) -> None:
        """Read and check every file the levels need, before the first write."""
        levels = set(levels)
        if Level.BOROUGH in levels:
            self.borough_features()
        if levels & {Level.BOROUGH, Level.LSOA}:
            self.lsoa_features()
        if Level.WARD in levels:
            self.ward_features()
        if Level.LSOA in levels:
            self.lookup()

    def borough_features(self) -> list[BoundaryFeature]:
        if self._boroughs is None:
            self._boroughs = read_boundary_file(path=self.sources.borough_file, level=Level.BOROUGH)
        return self._boroughs

    def lsoa_features(self) -> list[BoundaryFeature]:
        if self._lsoas is None:
            files = tqdm(
                self.sources.lsoa_files, desc="LSOA files", disable=not self.progress, leave=False
            )
            self._lsoas = read_boundary_files(paths=files, level=Level.LSOA)
        return self._lsoas

    def ward_features(self) -> list[BoundaryFeature]:
        if self._wards is None:
            files = tqdm(
                self.sources.ward_files, desc="ward KMLs", disable=not self.progress, leave=False
            )
            self._wards = read_ward_kml_files(paths=files, lookup=self.lookup())
        return self._wards

    def lookup(self) -> LsoaWardLookup:
        if self._lookup is None:
            self._lookup = read_lsoa_ward_lookup(path=self.sources.lookup_file)
        return self._lookup

    def borough_ids(self, *, file: str, column: str) -> dict[str, int]:
        ids = current_ids(level=Level.BOROUGH)
        if not ids:
            raise UploadError(file, "no current borough set to link to", None, column)
        return ids

    # Levels

    def load_boroughs(self) -> BoundarySet:
        """Codes and names from the ONS borough file, outlines = union of each one's LSOAs.

        The borough files do not contain the full-resolution LSOAs exactly (one leaves out the
        Thames, the other is generalised), so the union is what keeps every LSOA inside its
        borough.
        """
        boroughs = self.borough_features()
        by_code = {b.code: b for b in boroughs}
        groups: dict[str, list] = defaultdict(list)
        for lsoa in self.lsoa_features():
            borough_code = lsoa.attribute(LSOA_BOROUGH_FIELD).upper()
            if borough_code not in by_code:
                raise UploadError(
                    lsoa.file,
                    f"borough {borough_code!r} is not in {self.sources.borough_file.name}",
                    lsoa.number,
                    LSOA_BOROUGH_FIELD,
                    borough_code,
                )
            groups[borough_code].append(lsoa.geometry)
        for borough in boroughs:
            if borough.code not in groups:
                raise UploadError(
                    borough.file,
                    "no LSOA of this borough in the LSOA files",
                    borough.number,
                    borough.code_field,
                    borough.code,
                )
        outlines = union_groups(groups=groups)
        region = current_ids(level=Level.REGION).get(LONDON_CODE)
        return create_boundary_set(
            level=Level.BOROUGH,
            name="London boroughs (LAD 2022), outlines from LSOA 2021",
            vintage="2022",
            areas=[
                NewArea(code=b.code, name=b.name, geometry=outlines[b.code], parent_id=region)
                for b in boroughs
            ],
            source_files=self.sources.relative(
                [self.sources.borough_file, *self.sources.lsoa_files]
            ),
            checksum=self.checksums[Level.BOROUGH],
            notes="Codes and names from the borough file; each outline is the union of the "
            "borough's full-resolution LSOAs (ST_Union), so LSOAs nest exactly.",
        )

    def load_region(self) -> BoundarySet:
        """London = the union of the current boroughs; the boroughs then point at it."""
        borough_set = BoundarySet.objects.get(level=Level.BOROUGH, is_current=True)
        outline = union_of_set(boundary_set=borough_set)
        region_set = create_boundary_set(
            level=Level.REGION,
            name="London (union of the boroughs)",
            vintage="2021",
            areas=[NewArea(code=LONDON_CODE, name=LONDON_NAME, geometry=outline)],
            source_files=borough_set.source_files.splitlines(),
            checksum=self.checksums[Level.REGION],
        )
        london = region_set.areas.get()
        Area.objects.filter(boundary_set=borough_set).update(parent=london)
        return region_set

    def load_wards(self) -> BoundarySet:
        """The Met's wards from police.uk KMLs, cleaned into a coverage; names from the lookup."""
        lookup = self.lookup()
        wards = self.ward_features()
        borough_column = lookup.columns["lad_code"]
        boroughs = self.borough_ids(file=lookup.file, column=borough_column)
        for ward in wards:
            borough_code = ward.attribute("borough_code")
            if borough_code not in boroughs:
                raise UploadError(
                    lookup.file,
                    f"ward {ward.code}'s borough is not in the current borough set",
                    None,
                    borough_column,
                    borough_code,
                )
        cleaned = clean_coverage(geometries=[w.geometry for w in wards])
        self.log(f"wards: cleaning: {cleaned.summary()}")
        return create_boundary_set(
            level=Level.WARD,
            name="Met wards 2022 (police.uk neighbourhoods, Feb 2025), cleaned",
            vintage="2022",
            areas=[
                NewArea(
                    code=w.code,
                    name=w.name,
                    geometry=geometry,
                    parent_id=boroughs[w.attribute("borough_code")],
                )
                for w, geometry in zip(wards, cleaned.geometries, strict=True)
            ],
            source_files=self.sources.relative(
                [*self.sources.ward_files, self.sources.lookup_file]
            ),
            checksum=self.checksums[Level.WARD],
            notes=f"Names and boroughs from {lookup.file}. Coverage cleaning: "
            f"{cleaned.summary()}; changed: "
            + ", ".join(wards[i].code for i in cleaned.changed_indexes),
        )

    def load_lsoas(self) -> BoundarySet:
        """Full-resolution LSOAs; parent borough from lad22cd, best-fit ward from the lookup."""
        lsoas = self.lsoa_features()
        lookup = self.lookup()
        boroughs = self.borough_ids(file=lsoas[0].file, column=LSOA_BOROUGH_FIELD)
        wards = current_ids(level=Level.WARD)
        areas = []
        for lsoa in lsoas:
            borough_code = lsoa.attribute(LSOA_BOROUGH_FIELD).upper()
            if borough_code not in boroughs:
                raise UploadError(
                    lsoa.file,
                    "borough not in the current borough set",
                    lsoa.number,
                    LSOA_BOROUGH_FIELD,
                    borough_code,
                )
            ward_code = lookup.ward_of_lsoa.get(lsoa.code)
            areas.append(
                NewArea(
                    code=lsoa.code,
                    name=lsoa.name,
                    geometry=lsoa.geometry,
                    parent_id=boroughs[borough_code],
                    # None where the ward has no boundaries (the City's five wards).
                    best_fit_ward_id=wards.get(ward_code) if ward_code else None,
                )
            )
        return create_boundary_set(
            level=Level.LSOA,
            name="LSOA 2021 (London Datastore, full resolution)",
            vintage="2021",
            areas=areas,
            source_files=self.sources.relative(
                [*self.sources.lsoa_files, self.sources.lookup_file]
            ),
            checksum=self.checksums[Level.LSOA],
            notes=f"Best-fit wards from {lookup.file}.",
        )
