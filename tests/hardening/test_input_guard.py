"""Malformed input is refused with a 400 that says what is wrong, before any query sees it."""

import pytest

pytestmark = pytest.mark.django_db


def test_nul_in_search_query_is_a_400(client):
    response = client.get("/search/?q=ab%00cd")
    assert response.status_code == 400
    assert "q" in response.content.decode() and "control character" in response.content.decode()


def test_nul_in_a_path_segment_is_a_400(client):
    response = client.get("/ward/E05%0013570/")
    assert response.status_code == 400
    assert "address" in response.content.decode()


def test_nul_in_a_form_field_is_a_400(client):
    response = client.post("/feedback/", {"page": "/", "message": "hello\x00there"})
    assert response.status_code == 400
    assert "form field “message”" in response.content.decode()


def test_newlines_in_a_message_are_fine(client):
    response = client.post("/feedback/", {"page": "/", "message": "line one\r\nline two\tend"})
    assert response.status_code == 302


def test_invalid_utf8_in_the_query_is_a_400(client):
    response = client.get("/search/?q=%ff%fe")
    assert response.status_code == 400
    assert "UTF-8" in response.content.decode()


def test_an_oversized_query_string_is_refused(client):
    response = client.get("/search/", {"q": "x" * 10_000})
    assert response.status_code == 414
    assert "too long" in response.content.decode()


def test_control_character_in_a_query_parameter_name_is_a_400(client):
    assert client.get("/search/?q%01=x").status_code == 400
