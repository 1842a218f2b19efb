"""Staff edit page text, SNT teams and read feedback in the admin; feedback stays read-only."""

import pytest
from django.contrib.auth import get_user_model

from areas.models import SaferNeighbourhoodTeam
from crimestats.content_models import Feedback, PageContent

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("editor", "editor@example.org", "pw-123456")
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/crimestats/pagecontent/",
        "/admin/crimestats/pagecontent/add/",
        "/admin/crimestats/feedback/",
        "/admin/areas/saferneighbourhoodteam/",
        "/admin/areas/postcode/",
    ],
)
def test_admin_pages_load(admin_client, url):
    assert admin_client.get(url).status_code == 200


def test_feedback_is_read_only(admin_client):
    item = Feedback.objects.create(page="/", useful="yes", message="fine")
    assert admin_client.get("/admin/crimestats/feedback/add/").status_code == 403
    response = admin_client.post(
        f"/admin/crimestats/feedback/{item.pk}/change/", {"page": "/x/", "message": "changed"}
    )
    item.refresh_from_db()
    assert response.status_code == 403 and item.message == "fine"


def test_staff_edit_marks_a_team_as_theirs(admin_client):
    team = SaferNeighbourhoodTeam.objects.create(
        ward_code="E05000001",
        policeuk_id="E05000001",
        name="Test",
        ward_name="Test",
        borough_name="Camden",
    )
    response = admin_client.post(
        f"/admin/areas/saferneighbourhoodteam/{team.pk}/change/",
        {
            "name": "Test team",
            "met_url": "https://example.org/t/",
            "police_uk_url": "",
            "phone": "020 7000 0000",
            "email": "",
            "address": "",
            "priorities": "Bikes",
            "meetings": "",
            "edited_by_staff": "on",
        },
    )
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.edited_by_staff and team.phone == "020 7000 0000" and team.priorities == "Bikes"


def test_a_note_must_belong_to_an_area():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        PageContent.objects.create(kind="note", area_code="", title="Everywhere")
