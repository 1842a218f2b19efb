"""Every page type renders under its Content Security Policy in Chromium with no violation: the
Leaflet map, "use my location" and the embed included."""

import pytest

pytestmark = [pytest.mark.london, pytest.mark.browser, pytest.mark.django_db]

WARD = "/ward/E05013570/heathrow-villages/"
PAGES = {
    "london": "/",
    "borough": "/borough/E09000017/hillingdon/?map=lsoas",
    "ward": WARD,
    "lsoa": "/lsoa/E01002473/hillingdon-001a/",
    "search": "/search/?q=heathrw",
    "about": "/about/",
    "methodology": "/methodology/",
    "data": "/data/",
    "feedback": "/feedback/",
    "embed": "/embed/ward/E05013570/",
    "admin-login": "/admin/login/",
    "not-found": "/ward/E05999999/",
    "bad-request": "/search/?q=a%00b",
}
# Injected by the browser itself (not subject to the page's CSP): collects every violation.
WATCH = (
    "window.__violations = [];"
    "document.addEventListener('securitypolicyviolation', e =>"
    " window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
)


@pytest.fixture
def watched(page):
    messages = []
    page.on("console", lambda m: messages.append(m.text))
    page.add_init_script(WATCH)
    return page, messages


def _violations(page, messages) -> list[str]:
    reported = page.evaluate("window.__violations")
    return reported + [m for m in messages if "Content Security Policy" in m]


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_with_no_csp_violation(site, watched, name):
    page, messages = watched
    response = page.goto(site + PAGES[name])
    assert response.headers["content-security-policy"]
    page.wait_for_load_state("load")
    assert _violations(page, messages) == []


def test_the_leaflet_map_loads_under_the_csp(site, watched):
    page, messages = watched
    page.goto(site + WARD)
    page.get_by_role("button", name="Pan and zoom this map").click()
    page.wait_for_selector(".leaflet-map path.leaflet-interactive")
    page.locator(".leaflet-map path.leaflet-interactive").first.dispatch_event("mouseover")
    page.locator(".leaflet-tooltip").last.wait_for()
    assert _violations(page, messages) == []
