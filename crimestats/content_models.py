"""Staff-editable page text (reporting, advice, links, notes) and residents' feedback.

Imported by crimestats/models.py so Django registers them; kept apart from the figures' models.
"""

from django.db import models
from django.db.models import Q


class PageContent(models.Model):
    """A short piece of staff-edited text or a link, shown on area pages.

    One table for every kind, so an area page reads all of its text in one query. `area_code`
    empty means every page; a code (e.g. a borough's E09...) means that area's page only.
    """

    class Kind(models.TextChoices):
        REPORTING = "reporting", "How to report a crime"
        ADVICE = "advice", "Crime prevention advice"
        LINK = "link", "Area link (council, police)"
        NOTE = "note", "Context note for an area"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    area_code = models.CharField(
        max_length=9, blank=True, help_text="official code of the area; empty for every page"
    )
    category = models.ForeignKey(
        "crimestats.Category",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="advice only: the crime type it is about",
    )
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.URLField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "order", "title"]
        verbose_name = "page text or link"
        verbose_name_plural = "page texts and links"
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="advice") | Q(category=None), name="only_advice_has_category"
            ),
            models.CheckConstraint(
                condition=~Q(kind="note") | ~Q(area_code=""), name="notes_belong_to_an_area"
            ),
        ]

    def __str__(self) -> str:
        where = f" ({self.area_code})" if self.area_code else ""
        return f"{self.get_kind_display()}: {self.title}{where}"


class Feedback(models.Model):
    """What a visitor told us about a page. No personal data is asked for."""

    class Useful(models.TextChoices):
        YES = "yes", "Yes"
        NO = "no", "No"
        PARTLY = "partly", "Partly"

    page = models.CharField(max_length=300, help_text="the page the feedback came from")
    area_code = models.CharField(max_length=9, blank=True)
    useful = models.CharField(max_length=6, choices=Useful.choices, blank=True)
    message = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "feedback"

    def __str__(self) -> str:
        return f"{self.page} ({self.created_at:%Y-%m-%d %H:%M})"
