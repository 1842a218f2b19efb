"""The open-data download URLs, answered from the files of caching/opendata_files.py."""

from django.http import HttpRequest, HttpResponse

from caching.opendata_files import download, latest


def csv(request: HttpRequest, pk: int) -> HttpResponse:
    return download(request, pk, "figures.csv")


def json(request: HttpRequest, pk: int) -> HttpResponse:
    return download(request, pk, "figures.json")


def geojson(request: HttpRequest, pk: int, level: str) -> HttpResponse:
    return download(request, pk, f"{level}.geojson")


def changes(request: HttpRequest, pk: int) -> HttpResponse:
    return download(request, pk, "changes.csv")


def latest_file(request: HttpRequest, name: str) -> HttpResponse:
    """The current publication's files at /data/latest/: links that never need changing."""
    return latest(request, name)
