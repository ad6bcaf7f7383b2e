from __future__ import annotations

from django.db import models


class Lease(models.Model):
    """A named role that one process at a time holds until `expires_at` (deskhand/system/lease.py):
    the scheduler's, so that two schedulers on two hosts never both run a sweep."""

    name = models.CharField(max_length=64, primary_key=True)
    holder = models.CharField(max_length=200)
    expires_at = models.DateTimeField()
    # How often the holder changed hands: a scheduler that keeps losing its lease shows here.
    acquired = models.PositiveIntegerField(default=0)
    # Rounds run under the lease: one per period, whichever process held it.
    rounds = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder} until {self.expires_at:%H:%M:%S}"
