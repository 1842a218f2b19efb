"""URL configuration: each app owns its own routes."""

from django.contrib import admin
from django.urls import include, path

from caching.views import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("", include("areas.urls")),
    path("", include("crimestats.urls")),
]
