"""The areas admin lists, searches and shows areas, and refuses to add or delete them."""

import pytest
from django.urls import reverse

from areas.models import Level
from areas.services.imports import import_boundaries

pytestmark = pytest.mark.django_db


@pytest.fixture
def boroughs(fixtures_dir):
    return import_boundaries(
        paths=[fixtures_dir / "boroughs.geojson"], level=Level.BOROUGH, name="b", vintage="2022"
    )


def test_area_list_search_filter_and_page(admin_client, boroughs):
    url = reverse("admin:areas_area_changelist")
    response = admin_client.get(url, {"q": "E09000002", "level__exact": "borough"})
    assert response.status_code == 200
    assert "Barking and Dagenham" in response.text
    assert "City of London" not in response.text
    area = boroughs.areas.get(code="E09000001")
    page = admin_client.get(reverse("admin:areas_area_change", args=[area.pk]))
    assert page.status_code == 200
    assert "Barking and Dagenham (E09000002)" in page.text  # its neighbour
    assert admin_client.get(reverse("admin:areas_area_add")).status_code == 403
    delete = admin_client.get(reverse("admin:areas_area_delete", args=[area.pk]))
    assert delete.status_code == 403


def test_boundary_set_list_and_current_set_cannot_be_deleted(admin_client, boroughs):
    response = admin_client.get(reverse("admin:areas_boundaryset_changelist"))
    assert response.status_code == 200
    assert '<td class="field-area_count">2</td>' in response.text
    url = reverse("admin:areas_boundaryset_delete", args=[boroughs.pk])
    assert admin_client.get(url).status_code == 403
