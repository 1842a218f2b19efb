"""Per-page exceptions to the site-wide browser policies, kept next to each other.

Geolocation is off everywhere (Permissions-Policy) except on the pages that offer "use my
location"; the embed alone may be framed by other sites and runs no script at all.
"""

from collections.abc import Callable
from functools import wraps

from csp.constants import NONE
from csp.decorators import csp_replace
from django.conf import settings
from django.http import HttpResponse
from django_permissions_policy import PermissionsPolicyMiddleware


def geolocation_allowed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The view's pages may ask for the location (only when the person presses the button)."""

    @wraps(view)
    def wrapped(*args, **kwargs) -> HttpResponse:
        response = view(*args, **kwargs)
        policy = settings.PERMISSIONS_POLICY | {"geolocation": ["self"]}
        response._permissions_policy_override = PermissionsPolicyMiddleware.compute_header_value(
            policy, name="geolocation_allowed"
        )
        return response

    return wrapped


# Any site may frame the embed; it has no script, no form and no request of its own to make.
embed_policy = csp_replace(
    {"frame-ancestors": ["*"], "script-src": [NONE], "connect-src": [NONE], "form-action": [NONE]}
)
