"""The feedback limit keys on the client's real address, and its back-link never leaves the site."""

import pytest
from django.core.cache import cache
from django.test import override_settings

from crimestats.content_models import Feedback
from hardening.clients import client_address

pytestmark = pytest.mark.django_db


def _post(client, marker: str, **headers):
    return client.post("/feedback/", {"page": "/", "message": marker}, **headers)


@pytest.mark.parametrize("back", ["/\\evil.example", "//evil.example", "https://evil.example/"])
def test_thanks_back_link_stays_on_the_site(client, back):
    response = client.get("/feedback/thanks/", {"from": back})
    assert response.status_code == 200
    assert 'href="/"' in response.content.decode()
    assert "evil" not in response.content.decode()


def test_stored_page_is_never_another_site(client):
    cache.delete("feedback-rate:192.0.2.40")
    response = _post_page(client, "/\\evil.example")
    assert response.status_code == 302
    assert response["Location"] == "/feedback/thanks/?from=%2F"
    assert Feedback.objects.filter(message="back-link-check").latest("pk").page == "/"


def _post_page(client, page: str):
    return client.post(
        "/feedback/",
        {"page": page, "message": "back-link-check"},
        REMOTE_ADDR="192.0.2.40",
    )


def test_page_with_a_query_string_comes_back_whole(client):
    cache.delete("feedback-rate:192.0.2.40")
    response = _post_page(client, "/ward/E05013570/x/?crime=robbery&period=fy")
    assert response["Location"] == (
        "/feedback/thanks/?from=%2Fward%2FE05013570%2Fx%2F%3Fcrime%3Drobbery%26period%3Dfy"
    )


@override_settings(TRUSTED_PROXY_COUNT=0)
def test_a_forged_forwarded_for_does_not_reset_the_limit(client):
    cache.delete("feedback-rate:192.0.2.41")
    statuses = [
        _post(
            client, "rate-xff", REMOTE_ADDR="192.0.2.41", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}"
        ).status_code
        for i in range(6)
    ]
    assert statuses == [302, 302, 302, 302, 302, 429]


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_the_address_it_saw_is_the_client(rf):
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    assert client_address(request) == "203.0.113.9"


@override_settings(TRUSTED_PROXY_COUNT=2)
def test_behind_two_proxies_the_second_from_the_right(rf):
    request = rf.get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9, 10.0.0.2"
    )
    assert client_address(request) == "203.0.113.9"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_a_missing_or_garbled_header_falls_back_to_the_peer(rf):
    assert client_address(rf.get("/", REMOTE_ADDR="127.0.0.1")) == "127.0.0.1"
    garbled = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="not-an-address")
    assert client_address(garbled) == "127.0.0.1"


@override_settings(TRUSTED_PROXY_COUNT=0)
def test_with_no_trusted_proxy_the_header_is_ignored(rf):
    request = rf.get("/", REMOTE_ADDR="192.0.2.5", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_address(request) == "192.0.2.5"
