"""The feedback form: stored with its page, no personal data, honeypot and a per-client limit."""

from django import forms
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from crimestats.content_models import Feedback

RATE_LIMIT = 5  # submissions per client
RATE_WINDOW = 600  # seconds


class FeedbackForm(forms.Form):
    page = forms.CharField(max_length=300)
    area_code = forms.CharField(max_length=9, required=False)
    useful = forms.ChoiceField(choices=Feedback.Useful.choices, required=False)
    message = forms.CharField(max_length=2000, required=False)
    website = forms.CharField(required=False)  # the honeypot: people never see it

    def clean_page(self) -> str:
        page = self.cleaned_data["page"]
        # Only our own pages: a path, never another site.
        return page if page.startswith("/") and not page.startswith("//") else "/"

    def clean(self):
        data = super().clean()
        if not data.get("useful") and not data.get("message", "").strip():
            raise forms.ValidationError("Choose an answer or write a message.")
        return data


def _client(request: HttpRequest) -> str:
    # Behind nginx the client is the first X-Forwarded-For address; REMOTE_ADDR otherwise.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return forwarded.split(",")[0].strip() or request.META.get("REMOTE_ADDR", "unknown")


def _over_limit(request: HttpRequest) -> bool:
    key = f"feedback-rate:{_client(request)}"
    cache.add(key, 0, RATE_WINDOW)
    try:
        return cache.incr(key) > RATE_LIMIT
    except ValueError:  # expired between add and incr
        cache.set(key, 1, RATE_WINDOW)
        return False


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
    return redirect(f"/feedback/thanks/?from={data['page']}")


def thanks(request: HttpRequest) -> HttpResponse:
    back = request.GET.get("from", "/")
    if not back.startswith("/") or back.startswith("//"):
        back = "/"
    return render(request, "crimestats/feedback_thanks.html", {"back": back})
