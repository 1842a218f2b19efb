"""The feedback form with Redis unreachable (a real dead port, never a mock): its per-client
limit cannot count, so posts are accepted and stored rather than failing with a 500."""

import copy

import pytest
from django.conf import settings
from django.test import override_settings

from crimestats.content_models import Feedback
from crimestats.feedback import RATE_LIMIT

pytestmark = pytest.mark.django_db

NOTHING_LISTENS = "redis://127.0.0.1:9/0"  # the discard port: connection refused at once


def test_feedback_is_accepted_when_redis_is_down(client):
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["LOCATION"] = NOTHING_LISTENS
    marker = "redis-down-feedback"
    with override_settings(CACHES=caches):
        statuses = [
            client.post(
                "/feedback/", {"page": "/", "message": marker}, REMOTE_ADDR="192.0.2.77"
            ).status_code
            for _ in range(RATE_LIMIT + 2)
        ]
    assert statuses == [302] * (RATE_LIMIT + 2)
    assert Feedback.objects.filter(message=marker).count() == RATE_LIMIT + 2
