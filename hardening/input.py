"""Refuse malformed requests before any view or query sees them.

PostgreSQL cannot hold a NUL in a string (a query with one is a 500), and a control character or
broken UTF-8 in an address or a form is never what a person typed: each is a 400 that says which
input is wrong. An absurdly long query string is a 414.
"""

import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

# Nothing below a space in an address; form text may hold tabs and line breaks.
URL_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
FORM_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Far more than any link of the site needs (the admin's filters included), below nginx's limit.
MAX_QUERY_STRING = 4096
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused, in words for the person who sent it."""

    status: int
    message: str


def query_problem(request: HttpRequest) -> Refusal | None:
    raw = request.META.get("QUERY_STRING", "")
    if len(raw) > MAX_QUERY_STRING:
        return Refusal(
            414,
            f"The address is too long: its query string has {len(raw):,} characters, "
            f"and at most {MAX_QUERY_STRING:,} are accepted.",
        )
    try:
        # WSGI hands the query string over as Latin-1 text of its raw bytes.
        unquote_to_bytes(raw.replace("+", " ").encode("latin-1")).decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return Refusal(400, "The address's query string is not valid UTF-8 text.")
    for name, values in request.GET.lists():
        for text in (name, *values):
            if URL_CONTROL.search(text):
                return Refusal(
                    400, f"The query parameter “{name}” holds a control character (such as NUL)."
                )
    return None


def path_problem(request: HttpRequest) -> Refusal | None:
    if URL_CONTROL.search(request.path_info):
        return Refusal(400, "The page address holds a control character (such as NUL).")
    return None


def form_problem(request: HttpRequest) -> Refusal | None:
    if request.method not in ("POST", "PUT", "PATCH"):
        return None
    if not request.content_type.startswith(FORM_TYPES):
        return None
    for name, values in request.POST.lists():
        for text in (name, *values):
            if FORM_CONTROL.search(text):
                return Refusal(
                    400, f"The form field “{name}” holds a control character (such as NUL)."
                )
    return None


class InputGuardMiddleware:
    """First in the chain after SecurityMiddleware: nothing behind it sees malformed input."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refusal = path_problem(request) or query_problem(request) or form_problem(request)
        if refusal is not None:
            return render(
                request,
                "bad_request.html",
                {"message": refusal.message},
                status=refusal.status,
            )
        return self.get_response(request)
