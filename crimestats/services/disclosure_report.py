"""How much of the default view a publication hides, measured against the raw counts.

For benchmarks and the methodology's figures: per protected level and shown category, of the
rolling 12 months ending at the publication's latest month, how many figures are small (the
policy's primary rule), how many are withheld although not small (the cost of protecting
others), and the share of crimes hidden.
"""

from dataclasses import dataclass

from django.db import connection

from crimestats import disclosure
from crimestats.models import Publication
from crimestats.periods import Period, months_in
from crimestats.selectors import shown_categories
from crimestats.services.counts import current_counts

ROWS_SQL = """
    SELECT f.area_id, f.category_id, f.suppressed, f.withheld
    FROM crimestats_publishedfigure f JOIN areas_area a ON a.id = f.area_id
    WHERE f.block_id = ANY(%s) AND f.period = %s AND f.end_month = %s AND a.level = %s
"""


@dataclass(frozen=True)
class DefaultViewShare:
    level: str
    category: str
    figures: int
    small: int  # true count small under the policy
    withheld_not_small: int  # withheld although its true count is not small
    crimes: int
    crimes_hidden: int

    @property
    def withheld_not_small_share(self) -> float:
        return self.withheld_not_small / self.figures if self.figures else 0.0

    @property
    def crimes_hidden_share(self) -> float:
        return self.crimes_hidden / self.crimes if self.crimes else 0.0


def default_view_shares(publication: Publication) -> list[DefaultViewShare]:
    """One row per protected level and shown category (raw counts from the publication's own
    releases, through its coverage snapshot)."""
    policy = disclosure.Policy.from_settings()
    categories = shown_categories(publication)
    end = publication.latest_month
    months = set(months_in(Period.ROLLING_12, end))
    result = []
    for level in sorted(policy.levels):
        totals: dict[tuple[int, int], int] = {}
        counts = current_counts(level=level, categories=categories, coverage=publication.coverage)
        for (area, category, month), count in counts.items():
            if month in months:
                totals[(area, category)] = totals.get((area, category), 0) + count
        with connection.cursor() as cursor:
            cursor.execute(
                ROWS_SQL, [list(publication.block_ids), Period.ROLLING_12.value, end, level]
            )
            rows = cursor.fetchall()
        for category in categories:
            figures = small = withheld = crimes = hidden = 0
            for area, category_id, suppressed, is_withheld in rows:
                if category_id != category.id:
                    continue
                value = totals.get((area, category_id), 0)
                figures += 1
                crimes += value
                is_small = disclosure.is_small(value, level=level, policy=policy)
                small += is_small
                withheld += bool(is_withheld and not is_small)
                hidden += value if suppressed else 0
            result.append(
                DefaultViewShare(level, category.slug, figures, small, withheld, crimes, hidden)
            )
    return result
