"""Reading the mail Deskhand queued, as a person would read their inbox, for tests of any interface."""

from __future__ import annotations

import re

from deskhand.mail.models import OutboundMessage


def last_link(address: str) -> str:
    """The portal path in the newest mail to `address`."""
    mail = OutboundMessage.objects.filter(recipient_key=address.lower()).order_by("-id").first()
    assert mail is not None, f"no mail to {address}"
    found = re.search(r"https?://[^/\s]+(/portal/[^\s]+)", mail.body_text)
    assert found, mail.body_text
    return found.group(1)
