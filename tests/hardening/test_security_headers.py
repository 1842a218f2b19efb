"""Every page type carries the site's CSP (no unsafe-inline, no unsafe-eval), Referrer-Policy and
Permissions-Policy; only the embed may be framed; geolocation only where "use my location" is
offered; and no page has an inline script, style element or style attribute for the CSP to block."""

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

pytestmark = [pytest.mark.london, pytest.mark.django_db]

WARD = "/ward/E05013570/heathrow-villages/"
PAGES = {
    "london": "/",
    "borough": "/borough/E09000017/hillingdon/",
    "ward": WARD,
    "lsoa": "/lsoa/E01002473/hillingdon-001a/",
    "map-geojson": WARD + "map.geojson",
    "search": "/search/?q=heathrow",
    "about": "/about/",
    "methodology": "/methodology/",
    "data": "/data/",
    "feedback": "/feedback/",
    "feedback-thanks": "/feedback/thanks/",
    "not-found": "/ward/E05999999/",
    "bad-parameter": WARD + "?crime=arson",
    "bad-request": "/search/?q=a%00b",
    "admin-login": "admin-login",
    "embed": "/embed/ward/E05013570/",
}
GEOLOCATION_PAGES = {"london", "search"}


def _get(client, name):
    url = reverse("admin:login") if PAGES[name] == "admin-login" else PAGES[name]
    return client.get(url)


def _directives(header: str) -> dict[str, list[str]]:
    parts = [part.strip().split() for part in header.split(";") if part.strip()]
    return {part[0]: part[1:] for part in parts}


@pytest.mark.parametrize("name", PAGES)
def test_csp_on_every_page(client, london, name):
    response = _get(client, name)
    assert response.status_code < 500
    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    directives = _directives(policy)
    assert directives["script-src"] in (["'self'"], ["'none'"])
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    if name == "embed":
        assert directives["frame-ancestors"] == ["*"]
        assert "X-Frame-Options" not in response
    else:
        assert directives["frame-ancestors"] == ["'none'"]
        assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("name", PAGES)
def test_referrer_and_permissions_policies(client, london, name):
    response = _get(client, name)
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    policy = response["Permissions-Policy"]
    geolocation = "geolocation=(self)" if name in GEOLOCATION_PAGES else "geolocation=()"
    assert geolocation in policy.split(", ")
    assert "camera=()" in policy and "microphone=()" in policy


@pytest.mark.parametrize("name", [n for n in PAGES if n != "map-geojson"])
def test_no_inline_script_or_style(client, london, name):
    soup = BeautifulSoup(_get(client, name).content, "html.parser")
    assert [s for s in soup.find_all("script") if not s.get("src")] == []
    assert soup.find_all("style") == []
    assert [t.name for t in soup.find_all(style=True)] == []
    handlers = [t.name for t in soup.find_all(True) if any(a.startswith("on") for a in t.attrs)]
    assert handlers == []
