from __future__ import annotations

from django.db import models


class ImportJob(models.Model):
    """A CSV import too long to run during the request: the worker runs it and reports progress."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    agent_id = models.BigIntegerField()
    filename = models.CharField(max_length=255, blank=True)
    data = models.TextField()  # the remapped CSV; a finished preview keeps it for the import that follows
    dry_run = models.BooleanField(default=False)  # a preview: plans every row and writes nothing
    update_existing = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)
    report = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"import {self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        return 100 if self.status == self.Status.DONE else int(100 * self.rows_done / max(1, self.rows_total))
