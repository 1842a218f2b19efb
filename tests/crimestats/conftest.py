"""Fixtures for the importer tests; the real London load is `london` in tests/conftest.py."""

from pathlib import Path

import pytest

from tests.crimestats.factories import make_london

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "crimestats"


@pytest.fixture
def tiny_london(db):
    return make_london()


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
