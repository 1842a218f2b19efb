"""Admin for imported data: categories editable, releases and counts read-only, staff only."""

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from crimestats.importers.mps import import_mps_file
from crimestats.models import Category, Release


@pytest.fixture
def loaded(tiny_london, fixtures_dir):
    return import_mps_file(path=fixtures_dir / "mps_lsoa.csv", log=lambda _: None, progress=False)


def test_superuser_sees_every_page(client, loaded):
    client.force_login(User.objects.create_superuser("admin", "a@example.org", "x"))
    release = loaded.releases[0]

    for name in ("category", "release", "denominator", "monthlycount"):
        response = client.get(reverse(f"admin:crimestats_{name}_changelist"))
        assert response.status_code == 200, name
    page = client.get(reverse("admin:crimestats_release_change", args=[release.pk]))
    assert page.status_code == 200
    assert b"mps_lsoa.csv" in page.content
    assert client.get(reverse("admin:crimestats_release_add")).status_code == 403
    assert client.get(reverse("admin:crimestats_category_add")).status_code == 403


def test_category_shown_and_label_are_editable(client, loaded):
    client.force_login(User.objects.create_superuser("admin", "a@example.org", "x"))
    theft = Category.objects.get(name="THEFT", parent=None)

    response = client.post(
        reverse("admin:crimestats_category_change", args=[theft.pk]),
        {
            "shown": "on",
            "label": "Theft",
            "denominator": "residents",
            "aliases-TOTAL_FORMS": "0",
            "aliases-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    theft.refresh_from_db()
    assert (theft.shown, theft.label, theft.name) == (True, "Theft", "THEFT")


def test_release_cannot_be_changed_or_deleted(client, loaded):
    client.force_login(User.objects.create_superuser("admin", "a@example.org", "x"))
    release = loaded.releases[0]

    client.post(
        reverse("admin:crimestats_release_change", args=[release.pk]), {"file_name": "other"}
    )
    delete = client.post(
        reverse("admin:crimestats_release_delete", args=[release.pk]), {"post": "yes"}
    )

    assert delete.status_code == 403
    assert Release.objects.get(pk=release.pk).file_name == "mps_lsoa.csv"


def test_counts_are_not_for_non_staff(client, loaded):
    user = User.objects.create_user("someone", password="x")
    user.user_permissions.add(Permission.objects.get(codename="view_monthlycount"))
    client.force_login(user)

    response = client.get(reverse("admin:crimestats_monthlycount_changelist"))

    assert response.status_code == 302  # to the admin login: not staff
