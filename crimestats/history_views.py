"""The releases page, each publication's page and each publication's open-data page."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from areas.models import Level
from crimestats import history, selectors

LEVELS = [
    (Level.REGION, "London"),
    (Level.BOROUGH, "Borough"),
    (Level.WARD, "Ward"),
    (Level.LSOA, "LSOA"),
]


def releases(request: HttpRequest) -> HttpResponse:
    """Every publish and rollback, newest first."""
    entries = list(reversed(history.timeline()))
    rows = [
        (entry, [f for f in history.files_of(entry.publication, entry.replaced) if f.new])
        for entry in entries
    ]
    current = selectors.current_publication()
    return render(request, "crimestats/releases.html", {"rows": rows, "current": current})


def _public(pk: int):
    publication = history.public_publication(pk)
    if publication is None:
        raise Http404("No publication with that number was ever public")
    return publication


def release(request: HttpRequest, pk: int) -> HttpResponse:
    """One publication: when it went public (and any rollback to or from it), its note, what
    it changed, the files behind it and its downloads."""
    publication = _public(pk)
    entries = history.timeline()
    made_current = history.entries_of(publication, entries)
    withdrawn = [e for e in entries if e.replaced is not None and e.replaced.pk == pk]
    first = next((e for e in made_current if e.kind == "publish"), None) or made_current[0]
    current = selectors.current_publication()
    context = {
        "publication": publication,
        "first": first,
        "made_current": made_current,
        "withdrawn": withdrawn,
        "files": history.files_of(publication, first.replaced),
        "is_current": current is not None and current.pk == pk,
        "levels": LEVELS,
    }
    return render(request, "crimestats/release.html", context)


def publication_data(request: HttpRequest, pk: int) -> HttpResponse:
    """The downloads of one publication ever public: its files never change."""
    publication = _public(pk)
    current = selectors.current_publication()
    context = {
        "publication": publication,
        "previous": history.previous_public(publication),
        "is_current": current is not None and current.pk == pk,
        "levels": LEVELS,
    }
    return render(request, "crimestats/publication_data.html", context)
