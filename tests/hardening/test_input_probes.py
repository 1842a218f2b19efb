"""Every query parameter, path segment and form field of the public site, probed with hostile
input: the answer is a 4xx or a normal page that escapes it, never a 500, never the payload
reflected as markup, never a header it injected."""

from urllib.parse import quote, unquote

import pytest
from django.urls import reverse

from crimestats.models import Publication

pytestmark = [pytest.mark.london, pytest.mark.django_db]

WARD = ("ward", "E05013570", "heathrow-villages")
# name: (the payload as it goes in a URL, a piece of it that must never come back as markup)
PAYLOADS = {
    "xss-script": (quote('<script>alert("x")</script>', safe=""), "<script>alert"),
    "xss-attribute": (quote('"><img src=x onerror=alert(1)>', safe=""), "<img src=x"),
    "sql-quote": (quote("' OR '1'='1' --", safe=""), None),
    "sql-union": (quote("1 UNION SELECT password FROM auth_user--", safe=""), None),
    "traversal": (quote("../../../../etc/passwd", safe=""), None),
    "traversal-double-encoded": ("..%252f..%252fetc%252fpasswd", None),
    "header-injection": ("x%0d%0aSet-Cookie:%20pwned=1", None),
    "oversized": ("x" * 10_000, None),
    "invalid-utf8": ("%ff%fe%c3%28", None),
    "nul": ("ab%00cd", None),
}


def _query_targets(pk: int) -> list[tuple[str, str]]:
    """(path, parameter): every parameter a page reads, plus one it does not know."""
    ward = "/{}/{}/{}/".format(*WARD)
    pages = ["/", ward, "/borough/E09000017/hillingdon/", "/lsoa/E01002473/hillingdon-001a/"]
    targets = [(page, name) for page in pages for name in ("crime", "period", "map", "zzz")]
    targets += [(ward + "map.geojson", name) for name in ("crime", "period", "map")]
    targets += [("/map.geojson", "crime"), ("/embed/ward/E05013570/", "crime")]
    targets += [("/search/", "q"), ("/locate/", "lat"), ("/locate/", "lon")]
    targets += [("/feedback/thanks/", "from"), (f"/data/{pk}/figures.csv", "zzz")]
    return targets


def _path_targets(pk: int) -> list[str]:
    """Every path segment a route reads, with {} where the payload goes."""
    return [
        "/{}/E05013570/heathrow-villages/",
        "/ward/{}/heathrow-villages/",
        "/ward/E05013570/{}/",
        "/ward/{}/",
        "/ward/E05013570/{}/map.geojson",
        "/embed/ward/{}/",
        f"/data/{pk}/{{}}.geojson",
        "/data/{}/figures.csv",
        "/{}/",
    ]


FORMS = {
    "/feedback/": {
        "page": "/",
        "area_code": "E05013570",
        "useful": "yes",
        "message": "ok",
        "website": "",
    },
    "/locate/": {"lat": "51.5", "lon": "-0.1"},
}


@pytest.fixture
def publication(london) -> int:
    return Publication.objects.get(is_current=True).pk


def _check(response, payload: str, marker: str | None) -> None:
    assert response.status_code < 500, (response.status_code, payload[:80])
    assert "pwned" not in response.cookies
    for header, value in response.items():
        assert "\n" not in value and "\r" not in value, header
    if marker and response.get("Content-Type", "").startswith("text/html"):
        assert marker not in response.content.decode("utf-8", "replace")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_query_parameters(client, publication, payload):
    raw, marker = PAYLOADS[payload]
    for path, name in _query_targets(publication):
        _check(client.get(f"{path}?{name}={raw}"), raw, marker)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_path_segments(client, publication, payload):
    raw, marker = PAYLOADS[payload]
    for template in _path_targets(publication):
        _check(client.get(template.format(raw)), raw, marker)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_form_fields(client, london, payload):
    raw, marker = PAYLOADS[payload]
    sent = 0
    for path, fields in FORMS.items():
        for name in fields:
            body = "&".join(
                f"{key}={raw if key == name else quote(value, safe='')}"
                for key, value in fields.items()
            )
            sent += 1  # each from its own address: the feedback limit is per client
            response = client.post(
                path,
                body,
                content_type="application/x-www-form-urlencoded",
                REMOTE_ADDR=f"198.18.{sent}.{len(PAYLOADS)}",
            )
            _check(response, raw, marker)


def test_admin_login_fields(client, london):
    for raw, marker in PAYLOADS.values():
        for field in ("username", "password"):
            body = f"{field}={raw}&{'password' if field == 'username' else 'username'}=x"
            response = client.post(
                reverse("admin:login"), body, content_type="application/x-www-form-urlencoded"
            )
            _check(response, raw, marker)


def test_a_payload_in_a_normal_page_comes_back_escaped(client, london):
    text = '"><img src=x onerror=alert(1)>'
    response = client.get("/search/", {"q": text})
    body = response.content.decode()
    assert response.status_code in (200, 404)
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in body
    assert unquote(PAYLOADS["xss-attribute"][0]) == text
