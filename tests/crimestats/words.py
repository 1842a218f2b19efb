"""Checks that a page's words about hidden figures are true, shared by the unit and crawl tests.

Every figure's element carries ``data-status`` (exact, small, withheld, no-data). "fewer than 5"
is true only of a small figure (1 to 4); a withheld figure reads "not shown" and says nothing
about its size. Keys and captions that explain the two words are marked ``status-key``.
"""

from bs4 import BeautifulSoup, Tag

SMALL_WORDS = "fewer than"
WITHHELD_WORDS = "not shown"
SMALL, WITHHELD, EXACT, NO_DATA = "small", "withheld", "exact", "no-data"
STATUSES = {SMALL, WITHHELD, EXACT, NO_DATA}
# The SVG fill of each kind of hidden figure, by the class of the chart: the page map, the trend
# chart, and the embed's map (no class).
FILLS = {
    "choropleth": {SMALL: "url(#hatch)", WITHHELD: "url(#withheld-hatch)"},
    "trend-chart": {SMALL: "url(#trend-hatch)", WITHHELD: "url(#trend-withheld)"},
    "": {SMALL: "url(#h)", WITHHELD: "url(#w)"},
}


def soup_of(response) -> BeautifulSoup:
    content = response.content if hasattr(response, "content") else response
    return BeautifulSoup(content, "html.parser")


def _words(element: Tag) -> str:
    return " ".join([element.get_text(" ", strip=True), element.get("aria-label", "")]).lower()


def _fill(element: Tag) -> str:
    path = element if element.name in ("path", "rect") else element.find("path")
    return path.get("fill", "") if path is not None else ""


def check_figures(soup: BeautifulSoup) -> dict[str, int]:
    """Assert every figure's words fit its status; return how many of each the page shows."""
    seen = dict.fromkeys(STATUSES, 0)
    for element in soup.select("[data-status]"):
        status = element["data-status"]
        assert status in STATUSES, element
        seen[status] += 1
        words = _words(element)
        where = f"{status} figure: {element}"[:300]
        if status == SMALL:
            assert WITHHELD_WORDS not in words, where
            assert not words.strip() or SMALL_WORDS in words, where
        elif status == WITHHELD:
            assert SMALL_WORDS not in words, where
            assert not words.strip() or WITHHELD_WORDS in words, where
        else:
            assert SMALL_WORDS not in words and WITHHELD_WORDS not in words, where
        svg = element.find_parent("svg")
        if svg is not None:
            fills = FILLS[" ".join(svg.get("class", []))]
            if status in fills:
                assert _fill(element) == fills[status], where
            else:
                assert _fill(element) not in fills.values(), where
    return seen


def check_page(soup: BeautifulSoup) -> dict[str, int]:
    """Figures' words, keys that list each kind shown, and no "fewer than 5" anywhere else."""
    seen = check_figures(soup)
    map_statuses = {a["data-status"] for a in soup.select("svg.choropleth [data-status]")}
    legend = soup.select_one(".legend")
    if legend is not None:
        keys = {li["data-key"] for li in legend.select("[data-key]")}
        assert keys == map_statuses & {SMALL, WITHHELD}, (keys, map_statuses)
    for key in soup.select(".status-key [data-key], [data-key].status-key, .status-key[data-key]"):
        words = key.get_text(" ", strip=True).lower()
        if key["data-key"] == WITHHELD:
            assert WITHHELD_WORDS in words and SMALL_WORDS not in words, key
        else:
            assert SMALL_WORDS in words, key
    # Whatever is left once figures and keys are taken out never says "fewer than".
    rest = BeautifulSoup(str(soup.select_one("main") or soup), "html.parser")
    for element in rest.select("[data-status], .status-key"):
        element.decompose()
    text = rest.get_text(" ", strip=True).lower()
    assert SMALL_WORDS not in text, text[max(0, text.find(SMALL_WORDS) - 200) :][:400]
    return seen
