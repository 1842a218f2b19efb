"""Name search: trigram, typo-tolerant, never a 500."""

import pytest

from areas.search import areas_named

pytestmark = [pytest.mark.london, pytest.mark.django_db]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Heathrow Villages", "E05013570"),
        ("heathrw vilages", "E05013570"),
        ("Hillingdn", "E09000017"),
    ],
)
def test_typos_still_find_the_area(london, text, code):
    assert code in [a.code for a in areas_named(text=text)]


def test_search_page(london, client):
    response = client.get("/search/", {"q": "Camden"})
    assert response.status_code == 200 and "/borough/E09000007/camden/" in response.content.decode()
    assert client.get("/search/", {"q": "qqqqxxxx"}).status_code == 404
    assert client.get("/search/", {"q": "x" * 5000}).status_code in (200, 404, 414)
    assert client.get("/search/", {"q": "%00'; drop table"}).status_code in (200, 404)
