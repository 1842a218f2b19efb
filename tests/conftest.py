"""Shared fixtures: one session-scoped load of the real London data, a clean cache per run.

Tests that need the London data take the `london` fixture and are marked `london`. Never use
`transactional_db` or pytest-django's `live_server` (which implies it) in this suite: pytest-django
flushes every table after such a test, which would throw away the session's London load for every
test that follows. Browser tests (and the front-proxy test) use the read-only `site` server below.
"""

import io
import os

import pytest
from django.core.cache import cache
from django.core.management import call_command


def pytest_configure(config):
    """Tests use their own Redis database, so clearing it never touches a running site's cache:
    one of 1–15 (a site uses 0), chosen by the test database's name, so that suites run side by
    side against their own databases (DATABASE_URL) seldom share one, and one's `cache.clear()`
    cannot empty the other's pages mid-test."""
    import zlib
    from urllib.parse import urlsplit, urlunsplit

    from django.conf import settings

    database = settings.DATABASES["default"]["NAME"]
    number = 1 + zlib.crc32(database.encode()) % 15
    url = urlsplit(settings.CACHES["default"]["LOCATION"])
    settings.CACHES["default"]["LOCATION"] = urlunsplit(url._replace(path=f"/{number}"))
    # Cached query results name database ids: runs against different databases must not share.
    settings.CACHES["default"]["KEY_PREFIX"] = f"crimemap-test-{database}"
    # Tests switch publications back to back: read the current one on every request.
    settings.PAGE_CACHE_POINTER_SECONDS = 0


@pytest.fixture(scope="session", autouse=True)
def _clean_cache(django_db_setup):
    cache.clear()
    yield


@pytest.fixture(scope="session")
def london(django_db_setup, django_db_blocker):
    """The whole real London data, loaded once per session (a second load changes nothing)."""
    with django_db_blocker.unblock():
        out = io.StringIO()
        call_command("load_london", "--no-progress", stdout=out)
        cache.clear()
    return out.getvalue()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.path.exists(path):
        pytest.fail(f"Chromium not found at {path}: run `make test`, which installs it")
    return path


@pytest.fixture(scope="session")
def site(london, django_db_blocker):
    """The site served from a thread on the test database, for the whole session.

    pytest-django's own `live_server` forces `transactional_db`, which empties every table after
    each test and would throw away the session's London load; this server only reads.
    """
    from django.test.testcases import LiveServerThread, _StaticFilesHandler

    with django_db_blocker.unblock():
        thread = LiveServerThread("127.0.0.1", _StaticFilesHandler, port=0)
        thread.daemon = True
        thread.start()
        thread.is_ready.wait()
        if thread.error:
            raise thread.error
        yield f"http://127.0.0.1:{thread.port}"
        thread.terminate()
