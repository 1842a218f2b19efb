"""Writing a publication's figures as blocks: one per level and source, shared when unchanged.

A publication is a set of FigureBlocks. Building one decides, for each level and source, to
reuse the previous publication's block (nothing it depends on changed), or to write a new block:
the rows computed for changed series, plus the unchanged series' rows copied in the database
from the block they were in. So a police.uk month for the City writes the City's few thousand
figures and reuses the Met's ~700,000.
"""

from dataclasses import dataclass, field

from django.db import connection

from crimestats.models import FigureBlock
from crimestats.sources import Source

COLUMNS = (
    "block_id, area_id, category_id, period, end_month, count, suppressed, withheld, rate, band"
)
COPY_ROWS_SQL = f"COPY crimestats_publishedfigure ({COLUMNS}) FROM STDIN"
# Unchanged series' keys go into an analysed temporary table, so that copying their rows is a
# hash join rather than thousands of index probes.
SERIES_TABLE_SQL = (
    "CREATE TEMP TABLE IF NOT EXISTS copied_series (area_id bigint, category_id bigint)"
)
SERIES_FILL_SQL = "INSERT INTO copied_series SELECT * FROM unnest(%s::bigint[], %s::bigint[])"
COPY_SERIES_SQL = f"""
    INSERT INTO crimestats_publishedfigure ({COLUMNS})
    SELECT %s, f.area_id, f.category_id, f.period, f.end_month, f.count, f.suppressed,
           f.withheld, f.rate, f.band
    FROM crimestats_publishedfigure f
    JOIN copied_series s ON s.area_id = f.area_id AND s.category_id = f.category_id
    WHERE f.block_id = %s
"""


@dataclass
class BlockPlan:
    """What a new publication holds for one level and source."""

    level: str
    source: Source
    previous: FigureBlock | None = None  # the previous publication's figures for them
    rows: list[tuple] = field(default_factory=list)  # computed: (area, category, period, ...)
    copied: list[tuple[int, int]] = field(default_factory=list)  # (area, category) unchanged

    @property
    def reusable(self) -> bool:
        """Nothing was recomputed and the previous block holds exactly this level and source."""
        return (
            not self.rows
            and self.previous is not None
            and (self.previous.level, self.previous.source, self.previous.force)
            == (self.level, self.source.source, self.source.force)
        )


def write_blocks(plans: list[BlockPlan]) -> tuple[list[int], int]:
    """The block ids of a new publication, writing the blocks that changed; and its figures."""
    ids, total = [], 0
    for plan in plans:
        if plan.reusable:
            ids.append(plan.previous.pk)
            total += plan.previous.figure_count
            continue
        if not plan.rows and (not plan.copied or plan.previous is None):
            continue  # no figures for this level and source
        block = FigureBlock.objects.create(
            level=plan.level, source=plan.source.source, force=plan.source.force
        )
        with connection.cursor() as cursor:
            with cursor.cursor.copy(COPY_ROWS_SQL) as copy_in:
                for row in plan.rows:
                    copy_in.write_row((block.pk, *row))
            block.figure_count = len(plan.rows) + _copy_series(cursor, block=block, plan=plan)
        block.save(update_fields=["figure_count"])
        ids.append(block.pk)
        total += block.figure_count
    return ids, total


def _copy_series(cursor, *, block: FigureBlock, plan: BlockPlan) -> int:
    """Copy the unchanged series' rows from the previous block; returns rows copied."""
    if not plan.copied or plan.previous is None:
        return 0
    area_ids, category_ids = zip(*plan.copied, strict=True)
    cursor.execute(SERIES_TABLE_SQL)
    cursor.execute("TRUNCATE copied_series")
    cursor.execute(SERIES_FILL_SQL, [list(area_ids), list(category_ids)])
    cursor.execute("ANALYZE copied_series")
    cursor.execute(COPY_SERIES_SQL, [block.pk, plan.previous.pk])
    return cursor.rowcount
