"""Telling the front proxy (nginx) that another publication is current.

nginx's cache key ends with `$page_version`, set in a file it includes (`page-version.conf` in
its directory, `FRONT_PROXY_DIR`). At a switch the pre-warm job rewrites that file and reloads
nginx, so every page is asked for afresh under the new key, and nginx can keep a page for as
long as its publication is current instead of asking Django again every few seconds.

Why: with pages kept for s-maxage (10 s), nginx asked again for every page every 10 s. On two
cores that work took CPU from nginx itself, and the warm p99 through nginx was 28–52 ms; with
pages kept until a switch it was 5–6 ms (docs/benchmarks/load-latest.md).

Where no one can reload nginx (the compose file: nginx runs in its own container), leave
`FRONT_PROXY_DIR` unset: Django then sends no `X-Accel-Expires` and nginx keeps pages for
`s-maxage`, as any shared cache would.
"""

import os
import subprocess
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django_redis import get_redis_connection

from caching.pointer import Pointer

VERSION_FILE = "page-version.conf"


def enabled() -> bool:
    return bool(settings.FRONT_PROXY_DIR)


def version(current: Pointer | None) -> str:
    """The key suffix for this pointer: publication, page-text generation and when it went
    public (so a database loaded afresh, reusing ids, never meets an old page)."""
    if current is None:
        return ""
    return f"{current.publication_id}.{current.generation}.{int(current.last_modified.timestamp())}"


def _redis_answers() -> bool:
    """The generation is read from Redis; while Redis is down it reads 0, which must not be
    announced (nginx's cache is what serves pages then)."""
    try:
        return bool(get_redis_connection("default").ping())
    except Exception:
        return False


def directive(value: str) -> str:
    return f'set $page_version "{value}";\n'


def announced() -> str:
    """What the file says now ("" when there is no file)."""
    path = Path(settings.FRONT_PROXY_DIR) / VERSION_FILE
    return path.read_text() if path.exists() else ""


class ReloadFailed(Exception):
    """nginx could not be reloaded: it keeps the old key until it is (or is restarted)."""


def announce(current: Pointer | None, *, settle: bool = True) -> bool:
    """Point nginx's cache key at `current`; True if nginx was reloaded, False if it already
    was at it. Raises ReloadFailed, with nginx's own words, if it cannot be reloaded.

    With `settle`, first wait until every web process has read the new pointer itself (they
    read it at most every PAGE_CACHE_POINTER_SECONDS) and renders begun before that are done:
    otherwise a page of the old publication could be filed under the new key.
    """
    if not enabled() or not _redis_answers():
        return False
    text = directive(version(current))
    if announced() == text:
        return False
    if settle:
        time.sleep(settings.PAGE_CACHE_POINTER_SECONDS + 2)
    folder = Path(settings.FRONT_PROXY_DIR)
    with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, suffix=".tmp") as handle:
        handle.write(text)
    os.replace(handle.name, folder / VERSION_FILE)
    result = subprocess.run(
        ["nginx", "-s", "reload", "-p", str(folder), "-c", str(folder / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise ReloadFailed(result.stderr.strip() or f"nginx -s reload exited {result.returncode}")
    return True
