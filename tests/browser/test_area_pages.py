"""Every page type in a real browser: axe-core finds nothing, keyboard and no-JS work.

axe-core 4.14.1 is vendored under tests/browser/vendor (MPL-2.0, header kept) and injected into
the page by the test; the site never serves it.
"""

from pathlib import Path

import pytest

pytestmark = [pytest.mark.london, pytest.mark.browser, pytest.mark.django_db]

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
WARD = "/ward/E05013570/heathrow-villages/"
PAGES = {
    "london": "/",
    "london-wards": "/?map=wards",
    "borough": "/borough/E09000017/hillingdon/",
    "borough-lsoas": "/borough/E09000017/hillingdon/?map=lsoas&crime=robbery",
    "ward": WARD,
    "ward-fy-vehicle": WARD + "?crime=vehicle-offences&period=fy",
    "ward-month-notice": WARD + "?crime=robbery&period=month",
    "lsoa": "/lsoa/E01002473/hillingdon-001a/",
    "search": "/search/?q=heathrw",
    "search-unknown": "/search/?q=ZZ99+9ZZ",
    "embed": "/embed/ward/E05013570/",
    "data": "/data/",
    "about": "/about/",
    "methodology": "/methodology/",
    "feedback": "/feedback/",
    "bad-parameter": WARD + "?crime=arson",
}


def _axe(page) -> list[dict]:
    page.add_script_tag(content=AXE)
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})"
    )
    return [
        {"id": v["id"], "nodes": [n["target"] for n in v["nodes"][:5]]}
        for v in result["violations"]
    ]


@pytest.mark.parametrize("name", PAGES)
def test_axe_finds_no_violations(site, browser, screenshots, name):
    # The embed's CSP forbids inline scripts; the test may still inject axe.
    context = browser.new_context(viewport={"width": 1200, "height": 900}, bypass_csp=True)
    page = context.new_page()
    response = page.goto(site + PAGES[name])
    assert response.status in (200, 400, 404)
    page.screenshot(path=screenshots / f"{name}.png", full_page=True)
    violations = _axe(page)
    context.close()
    assert violations == []


def test_ward_page_map_and_table_agree(site, page):
    page.goto(site + WARD)
    assert page.locator("h1").inner_text() == "Burglary in Heathrow Villages"
    shapes = page.locator("svg.choropleth a.area")
    rows = page.locator("table.figures tbody tr[data-code]")
    shape_codes = sorted(shapes.nth(i).get_attribute("data-code") for i in range(shapes.count()))
    row_codes = sorted(rows.nth(i).get_attribute("data-code") for i in range(rows.count()))
    assert shapes.count() >= 2 and shape_codes == row_codes


def test_keyboard_reaches_search_map_areas_and_feedback(site, page):
    page.goto(site + WARD)
    reached = []
    for _ in range(600):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate(
                "() => { const e = document.activeElement; return [e.id, "
                "e.getAttribute('aria-label'), e.name, e.tagName, "
                "!!e.closest('section.feedback')].join('|') }"
            )
        )
        if reached[-1].endswith("|BUTTON|true"):
            break
    text = "\n".join(reached)
    assert "header-q|" in text  # the search box
    assert "Heathrow Villages: " in text  # a map area, by its accessible name
    assert "feedback-message|" in text
    assert "|useful|INPUT|true" in text
    assert reached[-1].endswith("|BUTTON|true")  # the feedback form's button


def test_london_keyboard_search_by_postcode(site, page):
    page.goto(site + "/")
    page.locator("#q-big").focus()
    page.keyboard.type(" Sw1A 1aA ")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/ward/E05013806/" in page.url


@pytest.mark.parametrize("name", ["london", "borough", "ward", "lsoa"])
def test_without_javascript_the_same_figures_and_links(site, browser, page, name):
    page.goto(site + PAGES[name])
    with_js = _figures_and_links(page)
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1200, "height": 900}
    )
    plain = context.new_page()
    plain.goto(site + PAGES[name])
    without_js = _figures_and_links(plain)
    context.close()
    assert with_js == without_js
    assert with_js["links"] and with_js["cells"]


def _figures_and_links(page) -> dict[str, list[str]]:
    return {
        "links": page.eval_on_selector_all("main a[href]", "els => els.map(e => e.href)"),
        "cells": page.eval_on_selector_all(
            "main td, main .big-number", "els => els.map(e => e.textContent)"
        ),
    }


def test_feedback_form_submits_with_keyboard(site, page):
    page.goto(site + WARD)
    page.locator("#feedback-message").focus()
    page.keyboard.type("Clear page, thank you")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/feedback/thanks/" in page.url
    assert page.locator("h1").inner_text() == "Thank you for your feedback"


def test_leaflet_enhancement_loads_locally(site, page, screenshots):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(site + WARD)
    page.get_by_role("button", name="Pan and zoom this map").click()
    page.wait_for_selector(".leaflet-map path.leaflet-interactive")
    assert (
        page.locator(".leaflet-map path.leaflet-interactive").count()
        == page.locator("table.figures tbody tr[data-code]").count()
    )
    assert all(url.startswith(site) for url in requests)
    page.screenshot(path=screenshots / "ward-leaflet.png", full_page=False)


def _withheld_ward() -> tuple[str, str]:
    """A ward page whose map shows a withheld figure (the latest 12 months), and its crime."""
    from crimestats.models import PublishedFigure
    from crimestats.selectors import current_publication

    publication = current_publication()
    figure = (
        PublishedFigure.objects.of(publication)
        .filter(
            withheld=True,
            area__level="ward",
            area__boundary_set__is_current=True,
            period="r12",
            end_month=publication.latest_month,
        )
        .select_related("area", "category")
        .order_by("area__code")
        .first()
    )
    assert figure is not None, "expected a withheld ward figure in the latest 12 months"
    return figure.area.get_absolute_url() + f"?crime={figure.category.slug}", figure.area.name


@pytest.mark.parametrize(("kind", "fill"), [("hatch", "small"), ("withheld-hatch", "withheld")])
def test_leaflet_map_hatches_hidden_figures_like_the_simple_map(
    site, page, screenshots, kind, fill
):
    url = _withheld_ward()[0] if fill == "withheld" else "/?map=wards&crime=robbery"
    page.goto(site + url)
    hatched = page.locator(f'svg.choropleth path[fill="url(#{kind})"]').count()
    assert hatched > 0
    page.get_by_role("button", name="Pan and zoom this map").click()
    page.wait_for_selector(".leaflet-map path.leaflet-interactive")
    assert page.locator(f'.leaflet-map path[fill="url(#leaflet-{kind})"]').count() == hatched
    assert page.locator(f".leaflet-map pattern#leaflet-{kind}").count() == 1
    page.screenshot(path=screenshots / f"leaflet-{fill}.png", full_page=False)


def test_leaflet_tooltip_of_a_withheld_area_says_not_shown(site, page, screenshots):
    url, name = _withheld_ward()
    page.goto(site + url)
    page.get_by_role("button", name="Pan and zoom this map").click()
    page.wait_for_selector(".leaflet-map path.leaflet-interactive")
    withheld = page.locator('.leaflet-map path[fill="url(#leaflet-withheld-hatch)"]')
    assert withheld.count() >= 1
    tips = []
    for i in range(withheld.count()):
        withheld.nth(i).dispatch_event("mouseover")
        tip = page.locator(".leaflet-tooltip")
        tip.last.wait_for()
        tips.append(tip.last.inner_text())
        withheld.nth(i).dispatch_event("mouseout")
    assert any(t.startswith(f"{name}: not shown") for t in tips), tips
    for text in tips:
        assert "not shown, so that a small number elsewhere cannot be worked out" in text
        assert "fewer than" not in text
    # Names are text, never markup: the tooltip holds one <strong> and text nodes.
    withheld.first.dispatch_event("mouseover")
    assert page.locator(".leaflet-tooltip strong").last.inner_text() in {
        t.split(": ")[0] for t in tips
    }
    page.screenshot(path=screenshots / "leaflet-withheld-tooltip.png", full_page=False)


def test_use_my_location_only_when_asked(site, browser):
    # Buckingham Palace: the browser reports it only after the button is pressed.
    context = browser.new_context(
        geolocation={"latitude": 51.5014, "longitude": -0.1419}, permissions=["geolocation"]
    )
    page = context.new_page()
    page.goto(site + "/")
    assert "/ward/" not in page.url
    with page.expect_navigation(url="**/ward/E05013806/**"):
        page.get_by_role("button", name="Use my location").click()
    assert page.locator("h1").inner_text().endswith("St James's")
    context.close()
