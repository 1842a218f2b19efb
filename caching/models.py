"""Pre-warm runs: what the background job has rendered since a publication went current."""

from django.db import models


class PrewarmRun(models.Model):
    """One pass of the pre-warm job over a publication's pages, with its progress."""

    publication_id = models.PositiveIntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    phase = models.CharField(max_length=40, default="starting")
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "pre-warm run"

    def __str__(self) -> str:
        return f"Pre-warm of publication {self.publication_id}: {self.done} of {self.total}"

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0
