"""An area whose name is markup (stored before names were checked, say) stays text everywhere:
the page, the simple map and the Leaflet tooltip, with no script run in the browser."""

import pytest
from django.core.cache import cache

# django_db only so that pytest-django sets up the test database for a session of these alone.
pytestmark = [pytest.mark.london, pytest.mark.browser, pytest.mark.django_db]

WARD_CODE = "E05013570"
WARD = f"/ward/{WARD_CODE}/heathrow-villages/"
HOSTILE = '<img src=x onerror="window.pwned=1">"><script>window.pwned=2</script>'


@pytest.fixture(scope="module")
def hostile_ward(site, django_db_blocker):
    """The ward renamed, committed so the live server sees it, and put back afterwards.

    Module-scoped, so it runs before the test's own transaction, which would hide the rename
    from the server's thread.
    """
    from areas.models import Area

    with django_db_blocker.unblock():
        ward = Area.objects.filter(code=WARD_CODE, boundary_set__is_current=True)
        before = ward.get().name
        ward.update(name=HOSTILE)
        cache.clear()
    yield
    with django_db_blocker.unblock():
        ward.update(name=before)
        cache.clear()


def test_a_hostile_name_is_text_on_the_page_and_in_the_tooltip(site, page, hostile_ward):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(site + WARD)
    assert HOSTILE in page.locator("h1").inner_text()
    page.get_by_role("button", name="Pan and zoom this map").click()
    page.wait_for_selector(".leaflet-map path.leaflet-interactive")
    shapes = page.locator(".leaflet-map path.leaflet-interactive")
    names = []
    for i in range(shapes.count()):
        shapes.nth(i).dispatch_event("mouseover")
        tip = page.locator(".leaflet-tooltip").last
        tip.wait_for()
        names.append(tip.locator("strong").inner_text())
        shapes.nth(i).dispatch_event("mouseout")
    assert HOSTILE in names
    assert page.locator(".leaflet-tooltip img, .leaflet-tooltip script").count() == 0
    assert page.locator("img[src='x']").count() == 0
    assert page.evaluate("window.pwned") is None
    assert dialogs == []
