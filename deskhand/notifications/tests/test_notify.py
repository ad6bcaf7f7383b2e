"""Who hears of what: each event's recipients, the switches, the mails and their threading, the cap."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from deskhand.agents.models import Agent, Team
from deskhand.agents.services import create_agent, create_team, set_active
from deskhand.core.actors import SYSTEM, Actor
from deskhand.mail.models import Mailbox, OutboundMessage
from deskhand.notifications.models import Notification
from deskhand.notifications.queries import switches_of, unread_count
from deskhand.notifications.services import (
    EMAILS_PER_HOUR,
    mark_all_read,
    mark_read,
    set_switches,
    thread_id,
)
from deskhand.sla.services import sweep_and_automate
from deskhand.work.inputs import AssigneeRef, FollowerRef, ItemChanges, ItemDraft
from deskhand.work.models import Item
from deskhand.work.services.items import change_item, submit_ticket
from deskhand.work.services.messages import add_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def bea(admin: Agent) -> Agent:
    return create_agent("bea@deskhand.test", name="Bea Berg", password="correct-horse-9", actor=Actor.agent(admin))


@pytest.fixture
def cid(admin: Agent) -> Agent:
    return create_agent("cid@deskhand.test", name="Cid Cole", password="correct-horse-9", actor=Actor.agent(admin))


@pytest.fixture
def team(admin: Agent, agent: Agent, bea: Agent, cid: Agent) -> Team:
    return create_team("First line", members=[agent.pk, bea.pk, cid.pk], actor=Actor.agent(admin))


@pytest.fixture
def ticket(db: Any) -> Item:
    return submit_ticket(ItemDraft(title="Printer on fire", requester_email="bob@acme.example"),
                         actor=Actor.customer("bob@acme.example"))


Committed = Callable[[], AbstractContextManager[Any]]


@pytest.fixture
def committed(settings: Any, django_capture_on_commit_callbacks: Any) -> Committed:
    """What waits for the commit (the notification mails' task, then their delivery) runs at the
    end of the block, as after a real commit."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    return lambda: django_capture_on_commit_callbacks(execute=True)


def _who(event: str | None = None) -> list[str]:
    rows = Notification.objects.select_related("agent").order_by("agent__email")
    return [n.agent.email for n in (rows.filter(event=event) if event else rows)]


def _mailed() -> list[str]:
    return sorted(to for row in OutboundMessage.objects.filter(kind="notification") for to in row.to)


def test_assigning_an_agent_tells_them_and_not_the_one_who_assigned(ticket: Item, agent: Agent, bea: Agent,
                                                                     committed: Committed) -> None:
    with committed():
        change_item(ticket, changes=ItemChanges(assignees=[AssigneeRef("agent", bea.pk),
                                                           AssigneeRef("agent", agent.pk)]), actor=Actor.agent(agent))
    assert _who() == ["bea@deskhand.test"]
    notification = Notification.objects.get()
    assert notification.event == "assigned" and notification.actor_label == "Ana Agent"
    assert notification.item_id == ticket.pk and notification.read_at is None
    assert _mailed() == ["bea@deskhand.test"]


def test_only_newly_assigned_people_hear_of_it(ticket: Item, agent: Agent, bea: Agent, cid: Agent) -> None:
    actor = Actor.agent(agent)
    change_item(ticket, changes=ItemChanges(assignees=[AssigneeRef("agent", bea.pk)]), actor=actor)
    change_item(ticket, changes=ItemChanges(assignees=[AssigneeRef("agent", bea.pk), AssigneeRef("agent", cid.pk)]),
                actor=actor)
    assert _who() == ["bea@deskhand.test", "cid@deskhand.test"]


def test_a_team_assignment_tells_its_members_once(ticket: Item, admin: Agent, agent: Agent, bea: Agent,
                                                   cid: Agent, team: Team) -> None:
    change_item(ticket, changes=ItemChanges(assignees=[AssigneeRef("team", team.pk), AssigneeRef("agent", bea.pk)]),
                actor=Actor.agent(agent))
    assert _who("assigned") == ["bea@deskhand.test"]
    assert _who("team_assigned") == ["cid@deskhand.test"]  # Ana made the change; Bea heard it directly
    assert Notification.objects.get(event="team_assigned").excerpt == "First line"


def test_a_new_ticket_assigned_at_creation_tells_the_assignees(agent: Agent, bea: Agent, team: Team) -> None:
    submit_ticket(ItemDraft(title="New", requester_email="bob@acme.example", assignees=[AssigneeRef("team", team.pk)]),
                  actor=Actor.agent(bea))
    assert _who("team_assigned") == ["ana@deskhand.test", "cid@deskhand.test"]


def test_a_customer_reply_tells_assignees_and_agent_followers(ticket: Item, admin: Agent, agent: Agent, bea: Agent,
                                                              cid: Agent, committed: Committed) -> None:
    change_item(ticket, changes=ItemChanges(assignees=[AssigneeRef("agent", agent.pk)],
                                            followers=[FollowerRef("agent", bea.pk)]), actor=Actor.agent(admin))
    Notification.objects.all().delete()
    OutboundMessage.objects.all().delete()
    with committed():
        add_message(ticket, kind="customer", body="Still burning.", actor=Actor.customer("bob@acme.example"))
    assert _who("customer_replied") == ["ana@deskhand.test", "bea@deskhand.test"]
    assert _mailed() == ["ana@deskhand.test", "bea@deskhand.test"]
    assert Notification.objects.filter(event="customer_replied").first().actor_label == "bob@acme.example"


def test_a_customer_reply_on_a_team_item_without_an_agent_tells_the_team(ticket: Item, admin: Agent, team: Team) -> None:
    change_item(ticket, changes=ItemChanges(assignees=[AssigneeRef("team", team.pk)]), actor=Actor.agent(admin))
    Notification.objects.all().delete()
    add_message(ticket, kind="customer", body="Hello?", actor=Actor.customer("bob@acme.example"))
    assert _who("customer_replied") == ["ana@deskhand.test", "bea@deskhand.test", "cid@deskhand.test"]


def test_replies_and_plain_notes_notify_nobody(ticket: Item, admin: Agent, agent: Agent, bea: Agent) -> None:
    change_item(ticket, changes=ItemChanges(followers=[FollowerRef("agent", bea.pk)]), actor=Actor.agent(admin))
    add_message(ticket, kind="reply", body="On it.", actor=Actor.agent(agent))
    add_message(ticket, kind="note", body="Call them at 10.", actor=Actor.agent(agent))
    assert not Notification.objects.exists()


def test_a_mention_in_a_note_tells_the_agent_by_address_or_name(ticket: Item, agent: Agent, bea: Agent,
                                                                cid: Agent, committed: Committed) -> None:
    with committed():
        add_message(ticket, kind="note", body="@bea can you look? Also @CidCole. Not mail@ana.example nor @ana self.",
                    actor=Actor.agent(agent))
    assert _who("mentioned") == ["bea@deskhand.test", "cid@deskhand.test"]
    assert Notification.objects.filter(event="mentioned").first().excerpt.startswith("@bea can you look?")
    assert _mailed() == []  # mentions are in-app by default


def test_a_note_that_came_by_mail_mentions_nobody(ticket: Item, agent: Agent, bea: Agent) -> None:
    # Its From address proves nothing: a forged "Ana" must not make the desk tell Bea "Ana mentioned you".
    add_message(ticket, kind="note", body="@bea re-enter your password at https://evil.example", channel="email",
                actor=Actor.agent(agent))
    assert not Notification.objects.exists()


def test_a_mention_of_an_inactive_agent_tells_nobody(ticket: Item, admin: Agent, agent: Agent, bea: Agent) -> None:
    set_active(bea, active=False, actor=Actor.agent(admin))
    add_message(ticket, kind="note", body="@bea are you there?", actor=Actor.agent(agent))
    assert not Notification.objects.exists()


def test_switches_decide_the_channels(ticket: Item, agent: Agent, bea: Agent, committed: Committed) -> None:
    set_switches(bea, switches={("assigned", "in_app"): False, ("assigned", "email"): True,
                                ("mentioned", "email"): True}, actor=Actor.agent(bea))
    with committed():
        change_item(ticket, changes=ItemChanges(assignees=[AssigneeRef("agent", bea.pk)]), actor=Actor.agent(agent))
    assert not Notification.objects.exists() and _mailed() == ["bea@deskhand.test"]
    with committed():
        add_message(ticket, kind="note", body="@bea thanks", actor=Actor.agent(agent))
    assert _who("mentioned") == ["bea@deskhand.test"] and len(_mailed()) == 2
    assert switches_of(bea)[("assigned", "in_app")] is False
    assert switches_of(bea)[("customer_replied", "email")] is True


def test_agents_choose_only_their_own_switches(agent: Agent, bea: Agent) -> None:
    from deskhand.core.errors import Forbidden, Invalid

    with pytest.raises(Forbidden):
        set_switches(bea, switches={("assigned", "email"): False}, actor=Actor.agent(agent))
    with pytest.raises(Invalid):
        set_switches(bea, switches={("assigned", "pigeon"): False}, actor=Actor.agent(bea))


def test_an_sla_at_risk_tells_the_assignee(ticket: Item, agent: Agent, admin: Agent) -> None:
    import datetime

    from django.utils import timezone

    from deskhand.sla.inputs import PolicyInput, TargetInput
    from deskhand.sla.models import ItemSla
    from deskhand.sla.services import apply_sla, clock_start, create_policy

    policy = create_policy(PolicyInput(name="Standard", targets=[TargetInput(
        priority="normal", first_response_minutes=60, resolution_minutes=600)]), actor=Actor.agent(admin))
    apply_sla([clock_start(ticket)], policy=policy, actor=SYSTEM)
    change_item(ticket, changes=ItemChanges(assignees=[AssigneeRef("agent", agent.pk)]), actor=Actor.agent(admin))
    Notification.objects.all().delete()
    assert ItemSla.objects.filter(item=ticket).exists()
    sweep_and_automate(now=timezone.now() + datetime.timedelta(minutes=55))
    assert _who("sla_at_risk") == ["ana@deskhand.test"]


def test_mail_is_threaded_per_item_and_agent_and_marked_automatic(ticket: Item, agent: Agent, bea: Agent,
                                                                  committed: Committed) -> None:
    actor = Actor.agent(agent)
    with committed():
        change_item(ticket, changes=ItemChanges(assignees=[AssigneeRef("agent", bea.pk)]), actor=actor)
        add_message(ticket, kind="customer", body="More smoke.", actor=Actor.customer("bob@acme.example"))
    first, second = OutboundMessage.objects.filter(kind="notification").order_by("id")
    root = thread_id(ticket.pk, bea.pk)
    for mail in (first, second):
        assert mail.to == ["bea@deskhand.test"] and mail.auto_submitted and mail.item_id is None
        assert mail.headers["In-Reply-To"] == root and mail.headers["References"] == root
        assert mail.headers["Auto-Submitted"] == "auto-replied"
        assert mail.subject == f"[{ticket.reference}] Printer on fire"
    assert first.rfc_message_id != second.rfc_message_id and root not in (first.rfc_message_id, second.rfc_message_id)
    assert "Ana Agent assigned #" in first.body_text and "bob@acme.example replied on" in second.body_text
    assert f"/tickets/{ticket.pk}" in first.body_text and "internal note" in first.body_text
    # The customer's thread does not name the agents' mails.
    with committed():
        reply = add_message(ticket, kind="reply", body="Answer.", actor=actor)
    customer_mail = OutboundMessage.objects.get(message=reply)
    assert first.rfc_message_id not in customer_mail.headers.get("References", "")


def test_no_mail_to_the_address_the_event_came_from_or_to_our_own(ticket: Item, admin: Agent, agent: Agent,
                                                                   committed: Committed) -> None:
    Mailbox.objects.create(address="support@deskhand.test")
    own = create_agent("support@deskhand.test", name="Shared inbox", password="correct-horse-9",
                       actor=Actor.agent(admin))
    with committed():
        change_item(ticket, changes=ItemChanges(assignees=[AssigneeRef("agent", own.pk),
                                                           AssigneeRef("agent", agent.pk)]), actor=Actor.agent(admin))
    assert _mailed() == ["ana@deskhand.test"]
    OutboundMessage.objects.all().delete()
    with committed():
        add_message(ticket, kind="customer", body="I am Ana, writing as a customer.",
                    actor=Actor.customer("ana@deskhand.test"))
    assert _mailed() == [] and "ana@deskhand.test" in _who("customer_replied")


def test_mails_to_one_agent_are_capped_per_hour(admin: Agent, bea: Agent, committed: Committed) -> None:
    with committed():
        for number in range(EMAILS_PER_HOUR + 3):
            submit_ticket(ItemDraft(title=f"T{number}", requester_email="bob@acme.example",
                                    assignees=[AssigneeRef("agent", bea.pk)]), actor=Actor.agent(admin))
    assert len(_mailed()) == EMAILS_PER_HOUR
    assert Notification.objects.filter(agent=bea).count() == EMAILS_PER_HOUR + 3  # the bell still rings


def test_inactive_agents_hear_nothing(ticket: Item, admin: Agent, bea: Agent, team: Team, committed: Committed) -> None:
    set_active(bea, active=False, actor=Actor.agent(admin))
    with committed():
        change_item(ticket, changes=ItemChanges(assignees=[AssigneeRef("team", team.pk)]), actor=Actor.agent(admin))
    assert "bea@deskhand.test" not in _who() + _mailed()


def test_the_bell_counts_and_marks_read(ticket: Item, agent: Agent, bea: Agent) -> None:
    for body in ("@bea one", "@bea two", "@bea three"):
        add_message(ticket, kind="note", body=body, actor=Actor.agent(agent))
    assert unread_count(bea) == 3 and unread_count(agent) == 0
    first = Notification.objects.filter(agent=bea).first()
    mark_read(bea, first.pk)
    assert unread_count(bea) == 2
    from deskhand.core.errors import NotFound

    with pytest.raises(NotFound):
        mark_read(agent, first.pk)  # not Ana's
    assert mark_all_read(bea) == 2 and unread_count(bea) == 0


def test_mails_that_say_the_same_are_rendered_once_per_language(ticket: Item, admin: Agent, agent: Agent, bea: Agent,
                                                                cid: Agent, team: Team, committed: Committed,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import deskhand.notifications.services as services
    from deskhand.agents.services import update_profile

    update_profile(cid, name=cid.name, signature="", language="de", time_zone="", actor=Actor.agent(cid))
    languages: list[str] = []
    real = services.render_mail

    def spy(kind: str, context: dict[str, Any], *, language: str = "") -> tuple[str, str, str]:
        languages.append(language)
        return real(kind, context, language=language)

    monkeypatch.setattr(services, "render_mail", spy)
    with committed():
        change_item(ticket, changes=ItemChanges(assignees=[AssigneeRef("team", team.pk)]), actor=Actor.agent(admin))
    assert sorted(languages) == ["", "de"]
    mails = {row.to[0]: row for row in OutboundMessage.objects.filter(kind="notification")}
    assert sorted(mails) == ["ana@deskhand.test", "bea@deskhand.test", "cid@deskhand.test"]
    ana, bea_mail = mails["ana@deskhand.test"], mails["bea@deskhand.test"]
    assert ana.body_text == bea_mail.body_text and "Admin" in ana.body_text and "First line" in ana.body_text
    assert ana.headers["In-Reply-To"] == thread_id(ticket.pk, agent.pk) != bea_mail.headers["In-Reply-To"]
    assert ana.rfc_message_id != bea_mail.rfc_message_id


def test_the_mails_wait_for_the_commit_and_skip_an_agent_deactivated_meanwhile(
        ticket: Item, admin: Agent, agent: Agent, bea: Agent, settings: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    with django_capture_on_commit_callbacks() as callbacks:
        change_item(ticket, changes=ItemChanges(assignees=[AssigneeRef("agent", bea.pk),
                                                           AssigneeRef("agent", agent.pk)]), actor=Actor.agent(admin))
    assert _who() == ["ana@deskhand.test", "bea@deskhand.test"] and _mailed() == []  # the bell at once
    set_active(bea, active=False, actor=Actor.agent(admin))
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    assert _mailed() == ["ana@deskhand.test"]


def test_the_sweep_forgets_read_notifications_after_a_quarter_and_unread_ones_after_a_year(
        ticket: Item, agent: Agent) -> None:
    import datetime

    from django.utils import timezone

    from deskhand.notifications.services import forget_old_notifications

    now = timezone.now()
    ages = {"read, 100 days": (100, True), "read, 80 days": (80, True), "unread, 200 days": (200, False),
            "unread, 400 days": (400, False), "read, 91 days": (91, True)}
    Notification.objects.bulk_create([
        Notification(agent=agent, item=ticket, event="mentioned", excerpt=label,
                     created_at=now - datetime.timedelta(days=days), read_at=now if read else None)
        for label, (days, read) in ages.items()])
    assert forget_old_notifications(now=now, limit=1) == 1  # bounded; the oldest read one first
    assert not Notification.objects.filter(excerpt="read, 100 days").exists()
    assert forget_old_notifications(now=now) == 2
    assert sorted(Notification.objects.values_list("excerpt", flat=True)) == ["read, 80 days", "unread, 200 days"]
    assert forget_old_notifications(now=now) == 0


def test_the_fan_out_is_one_read_and_one_insert(ticket: Item, admin: Agent, agent: Agent, bea: Agent, cid: Agent,
                                                team: Team, django_assert_num_queries: Any) -> None:
    from deskhand.automations.events import ItemEvent
    from deskhand.notifications.services import notify_item_events

    set_switches(cid, switches={("customer_replied", "in_app"): False}, actor=Actor.agent(cid))
    change_item(ticket, changes=ItemChanges(assignees=[AssigneeRef("team", team.pk)],
                                            followers=[FollowerRef("agent", admin.pk)]), actor=Actor.agent(admin))
    with django_assert_num_queries(2):
        written = notify_item_events([ItemEvent(item_id=ticket.pk, type="customer_replied",
                                                actor=Actor.customer("bob@acme.example"))])
    assert sorted(n.agent_id for n in written) == sorted([admin.pk, agent.pk, bea.pk])  # Cid switched it off
    with django_assert_num_queries(2):
        notify_item_events([ItemEvent(item_id=ticket.pk, type="updated", actor=Actor.agent(admin), changes={
            "assignees": ([f"team:{team.pk}"], [f"team:{team.pk}", f"agent:{bea.pk}"])})])
    assert Notification.objects.filter(agent=bea, event="assigned").exists()


def test_the_bell_names_an_agent_without_direction_controls(ticket: Item, admin: Agent, bea: Agent) -> None:
    from deskhand.agents.services import update_profile

    update_profile(admin, name="Ada \u202eAdmin", signature="", language="", time_zone="", actor=Actor.agent(admin))
    change_item(ticket, changes=ItemChanges(assignees=[AssigneeRef("agent", bea.pk)]), actor=Actor.agent(admin))
    assert Notification.objects.get().actor_label == "Ada Admin"


def test_each_agent_is_mailed_in_their_own_language(ticket: Item, admin: Agent, agent: Agent, bea: Agent,
                                                    committed: Committed) -> None:
    from deskhand.agents.services import update_profile

    update_profile(bea, name=bea.name, signature="", language="de", time_zone="", actor=Actor.agent(bea))
    with committed():
        change_item(ticket, changes=ItemChanges(assignees=[AssigneeRef("agent", agent.pk),
                                                           AssigneeRef("agent", bea.pk)]), actor=Actor.agent(admin))
    mails = {row.to[0]: row.body_text for row in OutboundMessage.objects.filter(kind="notification")}
    assert f"Ada Admin hat Ihnen {ticket.reference} zugewiesen." in mails["bea@deskhand.test"]
    assert f"Ada Admin assigned {ticket.reference} to you." in mails["ana@deskhand.test"]
