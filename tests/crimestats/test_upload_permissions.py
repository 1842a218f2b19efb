"""Roles: only data uploaders (and superusers) reach the upload, publish and rollback pages."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from crimestats.models import ReleaseState, Upload
from tests.crimestats.uploading import user_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def items():
    upload = Upload.objects.create(file_name="x.csv", status=Upload.Status.VALID)
    state = ReleaseState.objects.create(current_months=[], note="test state")
    return upload, state


def urls(upload: Upload, state: ReleaseState) -> dict[str, str]:
    return {
        "add": reverse("admin:crimestats_upload_add"),
        "list": reverse("admin:crimestats_upload_changelist"),
        "detail": reverse("admin:crimestats_upload_change", args=[upload.pk]),
        "errors": reverse("admin:crimestats_upload_errors", args=[upload.pk]),
        "publish": reverse("admin:crimestats_upload_publish", args=[upload.pk]),
        "rollback": reverse("admin:crimestats_releasestate_rollback", args=[state.pk]),
        "states": reverse("admin:crimestats_releasestate_changelist"),
        "audit": reverse("admin:crimestats_auditlog_changelist"),
    }


def test_the_roles_exist_with_their_permissions():
    uploader = set(Group.objects.get(name="data uploader").permissions.values_list("codename"))
    editor = set(Group.objects.get(name="content editor").permissions.values_list("codename"))
    assert {("add_upload",), ("publish_upload",), ("rollback_release",)} <= uploader
    assert ("change_category",) in editor and not {("add_upload",), ("publish_upload",)} & editor


def test_anonymous_users_are_sent_to_the_login_page(client, items):
    for name, url in urls(*items).items():
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, (name, method)
            assert response["Location"].startswith(reverse("admin:login")), name


@pytest.mark.parametrize("role", ["content editor", None])
def test_content_editors_and_other_staff_are_refused(client, items, role):
    user = user_in(role) if role else User.objects.create_user("staff", password="x", is_staff=True)
    client.force_login(user)
    upload, state = items

    for name, url in urls(upload, state).items():
        for method in (client.get, client.post):
            assert method(url).status_code == 403, (name, method)
    upload.refresh_from_db()
    assert upload.status == Upload.Status.VALID  # not queued for publishing


def test_data_uploaders_reach_every_page(client, items):
    client.force_login(user_in("data uploader"))
    upload, state = items
    for name, url in urls(upload, state).items():
        if name in {"publish"}:
            continue
        assert client.get(url).status_code == 200, name


def test_uploading_without_the_publish_permission_cannot_publish(client, items):
    user = User.objects.create_user("uploader-only", password="x", is_staff=True)
    user.user_permissions.add(
        *Group.objects.get(name="data uploader").permissions.exclude(codename="publish_upload")
    )
    client.force_login(user)
    upload, _ = items

    assert client.get(reverse("admin:crimestats_upload_add")).status_code == 200
    response = client.post(reverse("admin:crimestats_upload_publish", args=[upload.pk]))

    assert response.status_code == 403
    upload.refresh_from_db()
    assert upload.status == Upload.Status.VALID
