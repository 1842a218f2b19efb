"""A page is rendered from the publication its cache key names, even when another went current
between the page cache's read of the pointer and the render (real PostGIS and Redis)."""

import re

import pytest
from django.test import override_settings

from caching import pointer
from crimestats.models import Publication
from crimestats.services.publish import switch_to
from tests.caching.test_page_cache import twin_of

pytestmark = [pytest.mark.london, pytest.mark.django_db]


def _shown_as_current(response) -> str:
    """The publication the open-data page offers as the current one."""
    return re.search(r"Current figures \(publication (\d+),", response.content.decode()).group(1)


def test_a_switch_before_the_render_never_mixes_key_and_page(london, client):
    old = Publication.objects.get(is_current=True)
    new = twin_of(old)
    with override_settings(PAGE_CACHE_POINTER_SECONDS=3600):
        pointer.forget()
        assert pointer.current().publication_id == old.pk
        switch_to(publication=new)  # this process has not seen it yet
        stale = client.get("/data/", HTTP_ACCEPT_ENCODING="identity")
        assert stale["X-Publication"] == str(old.pk)
        assert _shown_as_current(stale) == str(old.pk)
        pointer.forget()
        fresh = client.get("/data/", HTTP_ACCEPT_ENCODING="identity")
        assert fresh["X-Publication"] == str(new.pk)
        assert fresh["X-Page-Cache"] == "miss"
        assert _shown_as_current(fresh) == str(new.pk)
    pointer.forget()
