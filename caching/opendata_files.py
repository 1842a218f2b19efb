"""Open-data downloads written once per publication, gzip-compressed, and served as files.

The bytes come from the download views in `crimestats/opendata.py` (so a file is exactly what
the view would stream); the pre-warm job writes them when a publication goes current, and until
then a download is streamed from the database as before. Every publication that was ever public
keeps its files at `/data/<id>/` (immutable: a year in caches); the current one is also at
`/data/latest/`, a URL that never changes. Behind nginx (`OPEN_DATA_ACCEL`), Django only checks
the publication and nginx sends the file (X-Accel-Redirect).
"""

import gzip
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)

from areas.models import Level
from caching import encoding, pointer
from crimestats import history, opendata

ACCEL_PREFIX = "/_opendata/"
PUBLIC_FILE_MODE = 0o644  # open data: anyone on the machine may read it, nginx must
CHUNK = 256 * 1024


def names() -> list[str]:
    """Every download of a publication, smallest first."""
    levels = [Level.REGION, Level.BOROUGH, Level.WARD, Level.LSOA]
    return [f"{level}.geojson" for level in levels] + ["changes.csv", "figures.json", "figures.csv"]


def _view(name: str) -> Callable[..., StreamingHttpResponse]:
    if name == "figures.csv":
        return opendata.figures_csv
    if name == "figures.json":
        return opendata.figures_json
    if name == "changes.csv":
        return opendata.changes_csv
    level = name.removesuffix(".geojson")
    if name.endswith(".geojson") and level in Level.values:
        return lambda request, pk: opendata.figures_geojson(request, pk, level)
    raise Http404("No such download")


def path_for(publication_id: int, name: str) -> Path:
    return Path(settings.OPEN_DATA_ROOT) / str(publication_id) / f"{name}.gz"


def _headers_path(path: Path) -> Path:
    return path.with_name(path.name + ".headers.json")


HEADERS = ("Content-Type", "Content-Disposition")


def write(publication_id: int, name: str) -> Path:
    """Write one download of the current publication (atomically: readers never see half)."""
    target = path_for(publication_id, name)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    response = _view(name)(HttpRequest(), publication_id)
    headers = {name: response[name] for name in HEADERS if name in response}
    _headers_path(target).write_text(json.dumps(headers))
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".part")
    try:
        with os.fdopen(handle, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            for chunk in response.streaming_content:
                gz.write(chunk)
        # mkstemp makes it 0600: nginx's workers (another user) could not read it, a 404.
        os.chmod(temporary, PUBLIC_FILE_MODE)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def write_all(publication_id: int, *, log: Callable[[str], None] = lambda _: None) -> None:
    for name in names():
        write(publication_id, name)
        log(f"open data: {name}")


def write_history(*, log: Callable[[str], None] = lambda _: None) -> None:
    """Write the downloads of every earlier public publication still missing them (those
    public before files were written); a publication's files, once written, never change."""
    for pk in history.public_publications().values_list("pk", flat=True):
        if any(not path_for(pk, name).exists() for name in names()):
            write_all(pk, log=lambda line, pk=pk: log(f"publication {pk} {line}"))


IMMUTABLE = "public, max-age=31536000, immutable"


def _headers(response: HttpResponse, path: Path, cache_control: str) -> HttpResponse:
    """The download view's own type and file name, kept beside the file when it was written."""
    stored = json.loads(_headers_path(path).read_text())
    for header in HEADERS:
        if header in stored:
            response[header] = stored[header]
        elif header in response:
            del response[header]
    response["Vary"] = "Accept-Encoding"
    response["Cache-Control"] = cache_control
    return response


def download(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """A download of a publication that was ever public, from its file if it is written
    (streamed from the database meanwhile: the same bytes)."""
    view = _view(name)
    current = pointer.current()
    is_current = current is not None and current.publication_id == pk
    if not is_current and history.public_publication(pk) is None:
        raise Http404("No publication with that number was ever public")
    return _serve(request, pk, name, view, IMMUTABLE)


def latest(request: HttpRequest, name: str) -> HttpResponse:
    """A download of the current publication at a URL that never changes."""
    view = _view(name)
    current = pointer.current()
    if current is None:
        raise Http404("Nothing is published yet")
    return _serve(request, current.publication_id, name, view, "public, max-age=60")


def _serve(request, pk: int, name: str, view, cache_control: str) -> HttpResponse:
    path = path_for(pk, name)
    if not path.exists():  # not written yet (the pre-warm job writes them): stream it
        response = view(request, pk)
        response["Cache-Control"] = cache_control
        return response
    if settings.OPEN_DATA_ACCEL:
        response = HttpResponse()
        response["X-Accel-Redirect"] = f"{ACCEL_PREFIX}{pk}/{name}"
        return _headers(response, path, cache_control)
    if encoding.accepts(request.META.get("HTTP_ACCEPT_ENCODING", ""), "gzip"):
        response = FileResponse(path.open("rb"))
        response["Content-Encoding"] = "gzip"
        response["Content-Length"] = str(path.stat().st_size)
        return _headers(response, path, cache_control)
    response = StreamingHttpResponse(_unzipped(path))
    return _headers(response, path, cache_control)


def _unzipped(path: Path) -> Iterator[bytes]:
    """For the rare client that takes no gzip."""
    with gzip.open(path, "rb") as body:
        while chunk := body.read(CHUNK):
            yield chunk
