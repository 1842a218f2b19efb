"""The client's address, for per-client limits: a proxy's X-Forwarded-For only when we trust it.

A client can send any X-Forwarded-For it likes; each proxy in front of the site appends the
address it saw. Behind N trusted proxies the client is the Nth entry from the right: entries
further left were written by the client and are ignored. With none (the default), REMOTE_ADDR.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def trusted_proxies() -> int:
    return max(0, int(getattr(settings, "TRUSTED_PROXY_COUNT", 0)))


def client_address(request: HttpRequest) -> str:
    """The address of the client as the outermost trusted proxy saw it, else the peer's."""
    peer = request.META.get("REMOTE_ADDR", "") or "unknown"
    count = trusted_proxies()
    if count == 0:
        return peer
    entries = [e.strip() for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    entries = [e for e in entries if e]
    if len(entries) < count:
        return peer  # not through every trusted proxy: all we know is the peer
    candidate = entries[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return peer
