"""Admin for staff-edited page text and links (content editors) and feedback (read only)."""

from django.contrib import admin
from django.db import models

from crimestats.content_models import Feedback, PageContent


@admin.register(PageContent)
class PageContentAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "area_code", "category", "order", "updated_at")
    list_filter = ("kind", "category")
    search_fields = ("title", "body", "area_code", "url")
    # Links typed without a scheme are web addresses: https (Django 6's default).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    ordering = ("kind", "order", "title")


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ("created_at", "page", "area_code", "useful", "message")
    list_filter = ("useful", "created_at")
    search_fields = ("page", "area_code", "message")
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
