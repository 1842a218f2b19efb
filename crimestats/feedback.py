"""The feedback form: stored with its page, no personal data, honeypot and a per-client limit."""

from urllib.parse import urlencode

from django import forms
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from crimestats.content_models import Feedback
from hardening.clients import client_address

RATE_LIMIT = 5  # submissions per client
RATE_WINDOW = 600  # seconds


class FeedbackForm(forms.Form):
    page = forms.CharField(max_length=300)
    area_code = forms.CharField(max_length=9, required=False)
    useful = forms.ChoiceField(choices=Feedback.Useful.choices, required=False)
    message = forms.CharField(max_length=2000, required=False)
    website = forms.CharField(required=False)  # the honeypot: people never see it

    def clean_page(self) -> str:
        return own_page(self.cleaned_data["page"])

    def clean(self):
        data = super().clean()
        if not data.get("useful") and not data.get("message", "").strip():
            raise forms.ValidationError("Choose an answer or write a message.")
        return data


def own_page(url: str) -> str:
    """A path on this site, or "/": browsers read "/\\evil" as "//evil", another site."""
    own = url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None)
    return url if own else "/"


def _over_limit(request: HttpRequest) -> bool:
    """Whether this client has posted too often. With Redis down the count is unknown (the
    cache answers None): the post is allowed, as nginx's limit_req still stands, never a 500."""
    key = f"feedback-rate:{client_address(request)}"
    cache.add(key, 0, RATE_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, RATE_WINDOW)
        return False
    return count is not None and count > RATE_LIMIT


# The form is on every cached public page, which carry no session and no CSRF cookie. It is
# anonymous and changes nothing a person owns, so there is nothing to forge; the honeypot and
# the per-client limit (and nginx's limit_req) stand against floods.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def feedback(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return render(request, "crimestats/feedback.html", {"form": FeedbackForm()})
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        return render(request, "crimestats/feedback.html", {"form": form}, status=400)
    if _over_limit(request):
        return render(request, "crimestats/feedback_limited.html", status=429)
    data = form.cleaned_data
    if not data["website"]:  # a filled honeypot is a bot: thank it, store nothing
        Feedback.objects.create(
            page=data["page"],
            area_code=data["area_code"],
            useful=data["useful"],
            message=data["message"].strip(),
        )
    return redirect(f"/feedback/thanks/?{urlencode({'from': data['page']})}")


def thanks(request: HttpRequest) -> HttpResponse:
    back = own_page(request.GET.get("from", "/"))
    return render(request, "crimestats/feedback_thanks.html", {"back": back})
