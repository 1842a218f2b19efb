"""A category's "shown" flag is what staff want; the public sees a change only through a publish,
and a rollback brings back the set the older publication showed."""

import pytest
from django.urls import reverse

from crimestats.models import Category, Publication, ReleaseState, Upload
from crimestats.selectors import shown_categories, wanted_categories
from crimestats.services.publish import build_publication, publication_is_stale
from crimestats.services.releases import record_state, rollback_to
from crimestats.services.uploads import receive_files
from tests.crimestats.test_upload_bundle import checked_and_published, mps_files
from tests.crimestats.uploading import user_in


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def published(tiny_london, fixtures_dir) -> Publication:
    (upload,) = receive_files(files=mps_files(fixtures_dir))
    checked_and_published(upload)
    assert upload.status == Upload.Status.PUBLISHED, upload.message
    return Publication.objects.get(is_current=True)


def slugs(categories: list[Category]) -> list[str]:
    return sorted(c.slug for c in categories)


def crime_links(client) -> set[str]:
    """The crime types the London page offers (its ?crime= links)."""
    html = client.get("/").content.decode()
    return {slug for slug in ("burglary", "robbery", "vehicle-offences") if f"crime={slug}" in html}


def test_hiding_a_category_waits_for_the_next_publish_and_a_rollback_restores_it(client, published):
    robbery = Category.objects.get(slug="robbery", parent=None)
    before = slugs(shown_categories())
    assert "robbery" in before and robbery in published.categories.all()
    links_before = crime_links(client)
    assert "robbery" in links_before
    state_before = ReleaseState.objects.order_by("-pk").first()

    Category.objects.filter(pk=robbery.pk).update(shown=False)  # as the admin's list edit does

    # Nothing public changed: the current publication keeps its set.
    assert slugs(shown_categories()) == before
    assert "robbery" not in slugs(wanted_categories())
    assert publication_is_stale()  # load_london would publish the change

    hidden = build_publication(log=lambda _: None)
    record_state(note="robbery hidden")
    assert slugs(shown_categories()) == sorted(set(before) - {"robbery"})
    assert slugs(hidden.categories.all()) == slugs(shown_categories())
    assert not publication_is_stale()

    rollback_to(state=state_before, log=lambda _: None)

    assert Publication.objects.get(is_current=True).pk == published.pk
    assert slugs(shown_categories()) == before  # the old set is back, flag or not
    assert not Category.objects.get(pk=robbery.pk).shown  # the wanted state is untouched


def test_admin_lists_the_wanted_flag_beside_what_the_site_shows(client, published):
    Category.objects.filter(slug="robbery", parent=None).update(shown=False)
    client.force_login(user_in("content editor"))

    page = client.get(reverse("admin:crimestats_category_changelist") + "?parent__isnull=True")

    assert page.status_code == 200
    rows = {c.slug: c.on_site for c in page.context["cl"].result_list if c.parent_id is None}
    assert rows["robbery"] is True  # hidden in the admin, still public until a publish
    assert rows["burglary"] is True


def test_a_rebuilt_rollback_uses_the_categories_of_the_state_it_returns_to(published):
    state_before = ReleaseState.objects.order_by("-pk").first()
    Category.objects.filter(slug="robbery", parent=None).update(shown=False)
    build_publication(log=lambda _: None)
    record_state(note="robbery hidden")
    # A publication built from other releases cannot be switched back to: the rollback rebuilds.
    other = Publication.objects.create(latest_month=published.latest_month)
    other.categories.set(published.categories.all())
    ReleaseState.objects.filter(pk=state_before.pk).update(publication=other)
    state_before.refresh_from_db()
    assert "robbery" not in slugs(shown_categories())

    rollback_to(state=state_before, log=lambda _: None)

    rebuilt = Publication.objects.get(is_current=True)
    assert rebuilt.pk not in (published.pk, other.pk)
    assert "robbery" in slugs(shown_categories())  # the old set, though the flag says hidden
