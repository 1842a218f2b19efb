"""/healthz: PostgreSQL and Redis checked for real, never cached, answered whatever the Host."""

import json

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_healthy(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"database": "ok", "redis": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_answers_a_load_balancer_whatever_host_it_asks_for(client):
    assert client.get("/healthz", HTTP_HOST="10.0.0.7:8000").status_code == 200


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_redis_unreachable_is_a_503_that_says_so(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["database"] == "ok" and body["redis"].startswith("failing")
    assert "no-store" in response["Cache-Control"]
