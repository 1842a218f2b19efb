"""Degradation, with the real services made unreachable (never mocked): Redis down → pages
rendered from the database; PostgreSQL down → cached pages served, others a friendly 503."""

import copy
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.db import connections
from django.test import override_settings

from areas.models import Area, Level

pytestmark = [pytest.mark.london, pytest.mark.django_db]

BR = {"HTTP_ACCEPT_ENCODING": "br"}
NOTHING_LISTENS = "redis://127.0.0.1:9/0"  # the discard port: connection refused at once


def wards(n: int) -> list[Area]:
    return list(
        Area.objects.filter(level=Level.WARD, boundary_set__is_current=True).order_by("-code")[:n]
    )


@contextmanager
def database_down():
    """Point Django's connection at a port where no PostgreSQL listens, then put it back."""
    working = connections["default"]
    settings_dict = copy.deepcopy(working.settings_dict)
    settings_dict["PORT"] = "9"
    connections["default"] = type(working)(settings_dict, "default")
    try:
        yield
    finally:
        connections["default"].close()
        connections["default"] = working


def test_redis_down_pages_are_still_served(london, client):
    ward = wards(1)[0]
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["LOCATION"] = NOTHING_LISTENS
    with override_settings(CACHES=caches):
        for url in ("/", ward.get_absolute_url(), "/search/?q=Camden", "/data/"):
            for _ in range(2):
                response = client.get(url, **BR)
                assert response.status_code == 200, url
                assert response["X-Page-Cache"] == "miss", url


def test_database_down_serves_cached_pages_and_a_503_for_others(london, client):
    cached, uncached = wards(2)
    assert client.get(cached.get_absolute_url(), **BR).status_code == 200
    with database_down():
        hit = client.get(cached.get_absolute_url(), **BR)
        assert hit.status_code == 200
        assert hit["X-Page-Cache"] == "hit"
        miss = client.get(uncached.get_absolute_url(), **BR)
        assert miss.status_code == 503
        assert miss["Retry-After"] == "30"
        assert b"not available just now" in miss.content
    assert client.get(uncached.get_absolute_url(), **BR).status_code == 200
