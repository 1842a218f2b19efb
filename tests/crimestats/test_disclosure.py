from hypothesis import given
from hypothesis import strategies as st

from crimestats.disclosure import Policy, publish

POLICY = Policy()


@given(st.integers(0, 10_000), st.sampled_from(["ward", "lsoa"]))
def test_no_small_count_is_published_at_protected_levels(count, level):
    shown = publish(count, level=level, policy=POLICY)
    if shown.suppressed:
        assert shown.value is None and shown.label == "fewer than 5" and 1 <= count <= 4
    else:
        assert shown.value == count and not 1 <= shown.value <= 4


@given(st.integers(0, 10_000), st.sampled_from(["borough", "region"]))
def test_borough_and_london_are_exact(count, level):
    shown = publish(count, level=level, policy=POLICY)
    assert shown.value == count and not shown.suppressed


def test_threshold_and_levels_are_settings(settings):
    settings.DISCLOSURE_THRESHOLD = 10
    settings.DISCLOSURE_LEVELS = ["lsoa"]
    policy = Policy.from_settings()
    assert publish(9, level="lsoa", policy=policy).label == "fewer than 10"
    assert publish(9, level="ward", policy=policy).value == 9
