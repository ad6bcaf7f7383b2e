"""Typed inputs of the chat services, built by the widget's JSON endpoints and the portal."""

from __future__ import annotations

from dataclasses import dataclass

from deskhand.chat.models import ChatSource


@dataclass(frozen=True)
class ChatStart:
    """A visitor's first message. `customer_id` is a signed-in portal customer (then `email` and
    `name` are theirs); `client` is the visitor's network address, for the rate limit."""

    message: str
    client: str
    email: str = ""
    name: str = ""
    language: str = ""
    page_url: str = ""
    source: ChatSource = ChatSource.WIDGET
    customer_id: int | None = None
