"""Pre-warm: after a publish or rollback, render the pages people hit first, in that order.

London, every borough and every ward (default view, page and map GeoJSON), then the open-data
files, then every LSOA. Progress is a `PrewarmRun` row, shown in the admin. A switch during a
run stops it; the job then starts again on the new publication.
"""

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from areas.models import Level
from areas.selectors import current_areas
from caching import opendata_files, pointer
from caching.models import PrewarmRun

Fetch = Callable[[str], int]
CHECK_EVERY = 25  # pages between looks at the current publication
CODINGS = ("br", "gzip")  # nginx keeps one copy per coding
STOPPED = "stopped: the job was stopped"


@dataclass(frozen=True)
class Phase:
    name: str
    urls: list[str]


def _area_urls(level: str) -> list[str]:
    urls = []
    for area in current_areas().filter(level=level).only("level", "code", "name").order_by("code"):
        page = area.get_absolute_url()
        urls += [page, page + "map.geojson"]
    return urls


def phases() -> list[Phase]:
    return [
        Phase("London", ["/", "/map.geojson"]),
        Phase("boroughs", _area_urls(Level.BOROUGH)),
        Phase("wards", _area_urls(Level.WARD)),
        Phase("open data", []),
        Phase("LSOAs", _area_urls(Level.LSOA)),
    ]


def in_process(host: str) -> Fetch:
    """Render through Django's own handler (middleware included), as a request to `host`."""
    from django.test import Client

    client = Client(HTTP_HOST=host, HTTP_ACCEPT_ENCODING="br, gzip")

    def fetch(url: str) -> int:
        return client.get(url).status_code

    return fetch


def over_http(base_url: str, host: str | None = None) -> Fetch:
    """Ask the front proxy (loopback), once per coding, so its cache is warmed as well."""

    def fetch(url: str) -> int:
        status = 0
        for coding in CODINGS:
            request = urllib.request.Request(base_url.rstrip("/") + url)
            request.add_header("Accept-Encoding", coding)
            if host:
                request.add_header("Host", host)
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    response.read()
                    status = response.status
            except urllib.error.HTTPError as error:
                status = error.code
        return status

    return fetch


def default_fetch() -> Fetch:
    if settings.PREWARM_URL:
        return over_http(settings.PREWARM_URL, settings.PREWARM_HOST or None)
    return in_process(settings.PREWARM_HOST or settings.ALLOWED_HOSTS[0])


def _unchanged(publication_id: int, generation: int) -> bool:
    """Still the publication (and page-text generation) the run began with: after a switch or
    a staff edit every page has a new key, and the watch loop empties nginx and starts again."""
    pointer.forget()
    now = pointer.current()
    return now is not None and (now.publication_id, now.generation) == (publication_id, generation)


def warm(
    *,
    publication_id: int,
    fetch: Fetch,
    plan: Iterable[Phase] | None = None,
    write_open_data: bool = True,
    log: Callable[[str], None] = lambda _: None,
) -> PrewarmRun:
    """Request every page of the plan once; returns the run (finished, or stopped by a switch).

    If the job itself is stopped (make run's Ctrl-C, a TERM), the run says so before it ends,
    so the admin never shows a pass in progress that nothing is running.
    """
    plan = list(phases() if plan is None else plan)
    run = PrewarmRun.objects.create(
        publication_id=publication_id, total=sum(len(p.urls) for p in plan)
    )
    started = time.monotonic()
    try:
        finished = _run_plan(run, plan, fetch, started, write_open_data, log)
    except BaseException:
        run.phase = STOPPED
        run.seconds = time.monotonic() - started
        run.save(update_fields=["phase", "done", "failed", "seconds"])
        raise
    if finished:
        run.phase = "done"
        run.finished_at = timezone.now()
        run.seconds = time.monotonic() - started
        run.save()
    return run


def _run_plan(
    run: PrewarmRun,
    plan: list[Phase],
    fetch: Fetch,
    started: float,
    write_open_data: bool,
    log: Callable[[str], None],
) -> bool:
    """Fetch the plan's pages in order; False if another publication went current meanwhile
    (or the page text changed)."""
    pointer.forget()
    generation = getattr(pointer.current(), "generation", 0)
    for phase in plan:
        run.phase = phase.name
        run.save(update_fields=["phase"])
        if phase.name == "open data" and write_open_data:
            opendata_files.write_all(run.publication_id, log=log)
            opendata_files.write_history(log=log)
        for n, url in enumerate(phase.urls, start=1):
            if fetch(url) >= 500:
                run.failed += 1
            run.done += 1
            if n % CHECK_EVERY == 0:
                run.seconds = time.monotonic() - started
                run.save(update_fields=["done", "failed", "seconds"])
                if not _unchanged(run.publication_id, generation):
                    run.phase = "stopped: the pages changed meanwhile"
                    run.save(update_fields=["phase"])
                    return False
        log(f"{phase.name}: {len(phase.urls)} pages, {time.monotonic() - started:.1f} s")
    return True
