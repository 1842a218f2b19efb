"""The small-count suppression policy: the only code that compares a count with the threshold.

Pure Python. At the protected levels (ward and LSOA by default) a count of 1 to threshold-1 is
published as "fewer than <threshold>", with no rate and no band; 0 and larger counts are exact.
Borough and London figures are exact. Threshold and levels come from settings.
"""

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    threshold: int = 5
    levels: frozenset[str] = frozenset({"ward", "lsoa"})

    @classmethod
    def from_settings(cls) -> "Policy":
        from django.conf import settings

        return cls(
            threshold=settings.DISCLOSURE_THRESHOLD,
            levels=frozenset(settings.DISCLOSURE_LEVELS),
        )

    @property
    def label(self) -> str:
        return f"fewer than {self.threshold}"


@dataclass(frozen=True)
class Published:
    """A figure as the public may see it: the exact value, or None with a label when hidden."""

    value: int | None
    suppressed: bool
    label: str


def is_small(count: int, *, level: str, policy: Policy) -> bool:
    """True for a count the primary rule hides at this level."""
    return level in policy.levels and 0 < count < policy.threshold


def publish(count: int, *, level: str, policy: Policy) -> Published:
    """The published form of one count under the primary rule."""
    if is_small(count, level=level, policy=policy):
        return Published(value=None, suppressed=True, label=policy.label)
    return Published(value=count, suppressed=False, label=f"{count:,}")


def publish_many(counts: Iterable[int], *, level: str, policy: Policy) -> list[Published]:
    return [publish(count, level=level, policy=policy) for count in counts]


def hidden(*, policy: Policy) -> Published:
    """How a hidden figure reads, for outputs that only know it was suppressed."""
    return Published(value=None, suppressed=True, label=policy.label)
