from tests.crimestats.conftest import fixtures_dir, tiny_london  # noqa: F401
