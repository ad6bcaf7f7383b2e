from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from deskhand.chat.inputs import ChatStart
from deskhand.chat.models import Author, ChatStatus
from deskhand.chat.services import CHATS_PER_HOUR, TooMany, start_chat
from deskhand.config.services import update_settings
from deskhand.core.actors import SYSTEM
from deskhand.core.errors import Invalid
from deskhand.customers.models import Customer, Source
from deskhand.sla.inputs import HoursInput, PolicyInput, TargetInput
from deskhand.sla.services import create_policy
from deskhand.work.models import Item


def test_a_chat_files_its_customer_and_waits(db: Any) -> None:
    started = start_chat(ChatStart(message="Hi there", client="1.2.3.4", email="Ana@Example.org", name="Ana",
                                   language="fr-CA"))
    chat = started.chat
    assert chat.status == ChatStatus.WAITING and chat.language == "fr"
    customer = Customer.objects.get(pk=chat.customer_id)
    assert customer.email_key == "ana@example.org" and customer.source == Source.CHAT
    assert [(m.author, m.body) for m in chat.messages.all()] == [(Author.CUSTOMER, "Hi there")]
    assert len(started.token) > 20 and started.token not in chat.token_hash


@pytest.mark.parametrize(("values", "field"), [
    ({"email": ""}, "email"), ({"email": "not an address"}, "email"), ({"message": "   "}, "message"),
    ({"message": "x" * 2001}, "message"), ({"name": "n" * 201}, "name"), ({"message": "bad\x00"}, "message"),
])
def test_bad_input_names_the_field_and_writes_nothing(db: Any, values: dict[str, str], field: str) -> None:
    base = {"message": "Hello", "email": "zoe@example.org", "name": "Zoe"}
    with pytest.raises(Invalid) as caught:
        start_chat(ChatStart(client="1.2.3.4", **{**base, **values}))
    assert caught.value.field == field
    assert not Customer.objects.exists() or field != "email"


def test_chats_per_hour_are_limited_per_address_and_per_network_address(db: Any) -> None:
    for number in range(CHATS_PER_HOUR):
        start_chat(ChatStart(message="Hi", client="9.9.9.9", email=f"v{number}@example.org"))
    with pytest.raises(TooMany):
        start_chat(ChatStart(message="Hi", client="9.9.9.9", email="other@example.org"))
    assert not Customer.objects.filter(email="other@example.org").exists()  # refused before it was filed
    later = timezone.now() + datetime.timedelta(hours=1, minutes=1)
    assert start_chat(ChatStart(message="Hi", client="9.9.9.9", email="other@example.org"), now=later)


def test_outside_business_hours_the_message_is_left_as_a_ticket(db: Any) -> None:
    policy = create_policy(PolicyInput(name="Office", targets=[TargetInput(priority="normal", first_response_minutes=60)],
                                       business_hours=HoursInput()), actor=SYSTEM)
    update_settings({"chat_hours_policy": policy.pk}, actor=SYSTEM)
    sunday = datetime.datetime(2025, 6, 1, 12, tzinfo=datetime.UTC)
    started = start_chat(ChatStart(message="Are you there?", client="1.1.1.1", email="zoe@example.org",
                                   language="de"), now=sunday)
    chat = started.chat
    assert chat.status == ChatStatus.TICKET and chat.ticket is not None
    item = Item.objects.get(pk=chat.ticket_id)
    assert item.title == "Are you there?" and item.channel == "chat"
    assert "Are you there?" in item.description
    last = chat.messages.order_by("id").last()
    assert last is not None and last.author == Author.SYSTEM and f"#{item.pk}" in last.body


def test_switched_off_chat_leaves_a_message_too(db: Any) -> None:
    update_settings({"chat_enabled": False}, actor=SYSTEM)
    chat = start_chat(ChatStart(message="Hello", client="1.1.1.1", email="zoe@example.org")).chat
    assert chat.status == ChatStatus.TICKET
