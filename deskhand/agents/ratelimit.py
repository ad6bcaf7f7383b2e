"""The sign-in limiter: a slow-down per account, and a block per client only for a client that
fails across many accounts, so one attacked address never locks out the agents beside it.

Failures are rows in the database (agents.SignInFailure), shared by every process and kept for
one window. After ACCOUNT_FREE failures for an account in the window, the account (from any
client) waits ACCOUNT_DELAY seconds after its latest failure, doubling with each further failure
up to the window. A client that failed for more than CLIENT_ACCOUNTS different accounts in the
window is refused for the rest of it.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from deskhand.agents.models import SignInFailure

WINDOW_SECONDS = 15 * 60
ACCOUNT_FREE = 5
ACCOUNT_DELAY = 15
CLIENT_ACCOUNTS = 20


def _account(email: str) -> str:
    return email.strip().lower()[:254]


def account_delay(failures: int) -> int:
    """Seconds an account waits after its latest failure, having failed `failures` times."""
    if failures < ACCOUNT_FREE:
        return 0
    return int(min(ACCOUNT_DELAY * 2 ** (failures - ACCOUNT_FREE), WINDOW_SECONDS))


def wait_seconds(email: str, client: str) -> int:
    """0 when a sign-in for `email` from `client` may be tried now, else how long to wait."""
    now = timezone.now()
    since = now - timedelta(seconds=WINDOW_SECONDS)
    recent = SignInFailure.objects.filter(created_at__gt=since)
    by_client = recent.filter(client=client[:64])
    if by_client.values("account").distinct().count() > CLIENT_ACCOUNTS:
        oldest = by_client.order_by("created_at").values_list("created_at", flat=True).first()
        return max(1, int((oldest - since).total_seconds()) if oldest else WINDOW_SECONDS)
    times = list(recent.filter(account=_account(email)).order_by("-created_at").values_list("created_at", flat=True))
    delay = account_delay(len(times))
    if not delay:
        return 0
    left = (times[0] + timedelta(seconds=delay) - now).total_seconds()
    return max(0, int(left + 0.999))


def blocked(email: str, client: str) -> bool:
    return wait_seconds(email, client) > 0


def record_failure(email: str, client: str) -> None:
    now = timezone.now()
    SignInFailure.objects.filter(created_at__lte=now - timedelta(seconds=WINDOW_SECONDS)).delete()
    SignInFailure.objects.create(account=_account(email), client=client[:64], created_at=now)


def clear(email: str, client: str) -> None:
    """A successful sign-in: the account starts afresh (the client's count across accounts stays)."""
    SignInFailure.objects.filter(account=_account(email)).delete()



def recent(account: str) -> int:
    """How many times `account` was recorded in the window (a count-based cap, beside the delay)."""
    since = timezone.now() - timedelta(seconds=WINDOW_SECONDS)
    return SignInFailure.objects.filter(account=_account(account), created_at__gt=since).count()
