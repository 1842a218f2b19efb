"""Fixtures for the areas tests: the hand-made files under fixtures/areas/."""

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "areas"


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
