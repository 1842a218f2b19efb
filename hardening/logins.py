"""django-axes hooks: the address and username a sign-in attempt is recorded under.

Axes stores the username in a 255-character column; a longer one (a 10,000-character probe)
made every failed sign-in a 500. No real username is longer than the user model's 150
characters. The address is the one the trusted proxies saw, or none (a test's force_login).
"""

import ipaddress

from django.contrib.auth import get_user_model
from django.http import HttpRequest

from hardening.clients import client_address


def attempt_address(request: HttpRequest) -> str | None:
    """The client's IP address as hardening.clients reads it; None when there is none."""
    address = client_address(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def attempted_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The username typed (from the credentials, else the form), cut to the model's length."""
    field = get_user_model().USERNAME_FIELD
    source = credentials or getattr(request, "POST", {})
    name = source.get(field)
    if name is None:
        return None
    return str(name)[: get_user_model()._meta.get_field(field).max_length]
