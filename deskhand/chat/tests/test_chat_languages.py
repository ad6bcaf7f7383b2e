"""A chat speaks its customer's language: system messages, the transcript mail, availability and the
errors a visitor meets, whatever language the agent's request or the worker runs in."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from deskhand.agents.models import Agent
from deskhand.agents.services import create_team
from deskhand.chat.inputs import ChatStart
from deskhand.chat.models import Author, Chat
from deskhand.chat.services import (
    Started,
    accept_chat,
    end_chat,
    send_transcript,
    start_chat,
    sweep_unanswered,
    transfer_chat,
)
from deskhand.config.services import update_settings
from deskhand.core.actors import SYSTEM, Actor
from deskhand.mail.models import OutboundMessage


def _system_messages(chat: Chat) -> list[str]:
    return list(chat.messages.filter(author=Author.SYSTEM).order_by("id").values_list("body", flat=True))


def test_a_german_chat_gets_its_system_messages_in_german(started: Started, agent: Agent, admin: Agent) -> None:
    chat = started.chat
    team = create_team("Zweite Ebene", actor=Actor.agent(admin))
    with translation.override("en"):  # the agent's own app is in English
        accept_chat(chat, agent=agent, actor=Actor.agent(agent))
        transfer_chat(chat, to_team=team, actor=Actor.agent(agent))
        accept_chat(chat, agent=admin, actor=Actor.agent(admin))
        transfer_chat(chat, to_agent=agent, actor=Actor.agent(admin))
        end_chat(chat, actor=Actor.agent(agent))
    assert _system_messages(chat) == [
        "Ana Agent ist dem Chat beigetreten.",
        "Wir haben Ihren Chat an Zweite Ebene weitergegeben. Gleich ist jemand für Sie da.",
        "Ada Admin ist dem Chat beigetreten.",
        "Sie chatten jetzt mit Ana Agent.",
        "Der Chat ist beendet.",
    ]


def test_an_unanswered_german_chat_is_told_in_german_that_it_became_a_request(started: Started) -> None:
    later = timezone.now() + datetime.timedelta(minutes=10)
    with translation.override("en"):  # the worker's sweep
        assert sweep_unanswered(now=later) == 1
    chat = Chat.objects.get(pk=started.chat.pk)
    assert _system_messages(chat) == [
        f"Ihr Chat ist jetzt die Anfrage #{chat.ticket_id}. Wir antworten Ihnen per E-Mail."]


def test_a_croatian_message_left_outside_hours(db: Any) -> None:
    update_settings({"chat_enabled": False}, actor=SYSTEM)
    chat = start_chat(ChatStart(message="Pozdrav", client="10.0.0.2", email="ivo@example.org", language="hr")).chat
    assert _system_messages(chat) == [
        f"Hvala. Trenutačno nismo na mreži pa je vaša poruka postala zahtjev #{chat.ticket_id}; "
        "odgovorit ćemo e-poštom."]


def test_the_transcript_mail_is_german(started: Started, agent: Agent) -> None:
    accept_chat(started.chat, agent=agent, actor=Actor.agent(agent))
    with translation.override("en"):
        send_transcript(started.chat, actor=Actor.customer("zoe@example.org"))
    mail = OutboundMessage.objects.get(kind="chat_transcript")
    assert mail.subject.startswith("Ihr Chat mit uns am ")
    assert mail.body_text.startswith("Guten Tag Zoe,")
    assert "hier ist wie gewünscht das Protokoll Ihres Chats mit uns." in mail.body_text
    assert "— Ana Agent ist dem Chat beigetreten." in mail.body_text
    assert "Dies ist eine automatisch versendete Nachricht." in mail.body_text


@pytest.mark.parametrize(("language", "text"), [
    ("de", "Wir sind online. Fragen Sie uns, ein Mitarbeiter antwortet Ihnen hier."),
    ("hr", "Na mreži smo. Pitajte nas bilo što i agent će vam odgovoriti ovdje."),
    ("fr", "Nous sommes en ligne. Posez-nous vos questions, un agent vous répondra ici."),
    ("es", "Estamos en línea. Pregúntenos lo que quiera y un agente le responderá aquí."),
    ("nb", "Vi er pålogget. Spør oss om hva som helst, så svarer en medarbeider her."),
])
def test_availability_in_every_customer_language(db: Any, client: Client, language: str, text: str) -> None:
    assert client.get(f"/widget/chat/availability?lang={language}").json() == {"open": True, "message": text}


def test_a_visitors_error_comes_in_their_language(db: Any, client: Client) -> None:
    response = client.post("/widget/chats", {"email": "zoe@example.org", "message": "x" * 2001, "language": "fr"},
                           content_type="application/json")
    assert response.status_code == 422
    assert response.json() == {"detail": "Un message compte au plus 2000 caractères.", "field": "message"}
    response = client.post("/widget/chats", {"message": "Hallo", "language": "de"}, content_type="application/json")
    assert response.json() == {"detail": "Geben Sie Ihre E-Mail-Adresse ein.", "field": "email"}
