"""URL configuration: each app owns its own routes."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from caching.views import healthz

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),  # ADMIN_URL: not guessable in production
    path("healthz", healthz, name="healthz"),
    path("", include("areas.urls")),
    path("", include("crimestats.urls")),
]
