"""Satisfaction surveys: one request per item and send, answered (and re-answered) until it expires."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Rating(models.TextChoices):
    GOOD = "good", _("Good")
    OKAY = "okay", _("Okay")
    BAD = "bad", _("Bad")


class SurveyRequest(models.Model):
    item = models.ForeignKey("work.Item", on_delete=models.CASCADE, related_name="surveys")
    customer = models.ForeignKey("customers.Customer", null=True, on_delete=models.SET_NULL, related_name="+")
    # Who the answer counts for, as things stood when it was sent.
    organization = models.ForeignKey("customers.Organization", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    agent = models.ForeignKey("agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    rating = models.CharField(max_length=8, choices=Rating.choices, blank=True)
    comment = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "-sent_at"], name="survey_organization_idx"),
            models.Index(fields=["agent", "-sent_at"], name="survey_agent_idx"),
        ]

    def __str__(self) -> str:
        return f"survey {self.pk} of item {self.item_id}"
