"""Search by postcode or name, and "use my location": parse, look up, redirect or list."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from areas.models import Level
from areas.search import (
    area_at,
    area_page_url,
    areas_named,
    looks_like_postcode,
    postcode_lookup,
    postcodes_starting,
)
from hardening.policies import geolocation_allowed

MAX_QUERY = 100


def _postcode_page(result) -> str | None:
    """The page a postcode leads to: its ward, or its LSOA where no Met ward covers it."""
    return area_page_url(choices=[(Level.WARD, result.ward_code), (Level.LSOA, result.lsoa_code)])


QUERY_PARAMETERS = ("q",)  # all the search page reads (caching/store.py keys on it)


@geolocation_allowed  # the search page offers "use my location"
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:MAX_QUERY]
    context = {"query": query, "postcodes": [], "areas": [], "message": ""}
    if not query:
        context["message"] = "Enter a postcode (for example SW1A 1AA) or the name of a place."
        return render(request, "areas/search.html", context, status=200)
    if looks_like_postcode(query):
        found = postcode_lookup(text=query)
        if found is not None:
            url = _postcode_page(found)
            if url is not None:
                return redirect(url)
            context["message"] = f"We found {found.postcode} but could not place it in an area."
            return render(request, "areas/search.html", context)
        context["postcodes"] = postcodes_starting(text=query)
    context["areas"] = areas_named(text=query)
    if not context["postcodes"] and not context["areas"]:
        if looks_like_postcode(query):
            context["message"] = (
                f"“{query}” is not a London postcode we know. It may be outside London, "
                "mistyped or no longer in use. Check it, or search by the name of your area."
            )
        else:
            context["message"] = (
                f"No London area matches “{query}”. Check the spelling, or try a postcode."
            )
    status = 200 if context["postcodes"] or context["areas"] else 404
    return render(request, "areas/search.html", context, status=status)


def locate(request: HttpRequest) -> HttpResponse:
    """ "Use my location": the browser sends lat/lon only when the person asks; we redirect."""
    data = request.POST if request.method == "POST" else request.GET
    try:
        lat, lon = float(data.get("lat", "")), float(data.get("lon", ""))
    except ValueError:
        context = {
            "query": "",
            "postcodes": [],
            "areas": [],
            "message": (
                "We could not read your location. Search by postcode or place name instead."
            ),
        }
        return render(request, "areas/search.html", context, status=400)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        context = {
            "query": "",
            "postcodes": [],
            "areas": [],
            "message": "That is not a place on Earth.",
        }
        return render(request, "areas/search.html", context, status=400)
    for level in (Level.WARD, Level.LSOA):
        area = area_at(lat=lat, lon=lon, level=level)
        if area is not None:
            return redirect(area.get_absolute_url())
    context = {
        "query": "",
        "postcodes": [],
        "areas": [],
        "message": (
            "Your location is outside the area this site covers (London policed by the Met and the "
            "City of London Police). Search by postcode or place name instead."
        ),
    }
    return render(request, "areas/search.html", context, status=404)
