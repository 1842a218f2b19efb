"""GET /healthz for Docker's HEALTHCHECK and load balancers: can this process serve pages?

One `SELECT 1` on PostgreSQL and a PING to Redis, each with a short timeout. It is answered
first in the middleware chain: no Host check (a balancer asks by address), no session, never
from or into the page cache, and never cached by anyone downstream.
"""

from functools import lru_cache

import redis
from cachalot.api import cachalot_disabled
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers

HEALTH_PATH = "/healthz"
REDIS_TIMEOUT = 1.0  # seconds


def database_state() -> str:
    try:
        with cachalot_disabled(), connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any failure is an answer here, never a 500
        return f"failing: {type(error).__name__}"
    return "ok"


@lru_cache(maxsize=4)
def _redis(url: str) -> redis.Redis:
    """One client (and connection pool) per process: a check opens no new connection."""
    return redis.Redis.from_url(
        url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT
    )


def redis_state() -> str:
    try:
        _redis(settings.REDIS_URL).ping()
    except Exception as error:
        return f"failing: {type(error).__name__}"
    return "ok"


class HealthCheckMiddleware:
    """First in MIDDLEWARE: /healthz never reaches the host check, sessions or the page cache."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info != HEALTH_PATH:
            return self.get_response(request)
        states = {"database": database_state(), "redis": redis_state()}
        healthy = all(state == "ok" for state in states.values())
        response = JsonResponse(states, status=200 if healthy else 503)
        add_never_cache_headers(response)
        return response
