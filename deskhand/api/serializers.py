"""Model → JSON for API v1, and the lookups that turn ids in a body into 422s."""

from __future__ import annotations

import re
from typing import Any

from django.urls import reverse

from deskhand.agents.models import Agent, Team
from deskhand.audit.models import AuditEvent
from deskhand.audit.queries import history
from deskhand.core.errors import Invalid, NotFound
from deskhand.core.numbers import MAX_ID
from deskhand.customers import queries
from deskhand.customers.models import Customer, CustomerType, Organization
from deskhand.fields.models import CustomField
from deskhand.mail.models import InboundEmail, Mailbox, NeverFollow
from deskhand.work.models import (
    Attachment,
    Folder,
    Follower,
    Item,
    Message,
    Portfolio,
    Priority,
    Project,
    Status,
    TimeEntry,
)


def customer_out(customer: Customer, field_keys: set[str]) -> dict[str, Any]:
    organization = customer.organization
    return {
        "id": customer.pk,
        "email": customer.email,
        "name": customer.name,
        "phone": customer.phone,
        "language": customer.language,
        "notes": customer.notes,
        "organization": organization.pk if organization else None,
        "organization_name": organization.name if organization else None,
        "customer_type": customer.customer_type.name if customer.customer_type else None,
        "placed_manually": customer.placed_manually,
        "custom_fields": {k: v for k, v in customer.custom_fields.items() if k in field_keys},
        "source": customer.source,
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
    }


def organization_out(organization: Organization, field_keys: set[str]) -> dict[str, Any]:
    return {
        "id": organization.pk,
        "name": organization.name,
        "domains": [row.domain for row in organization.domains.all()],
        "customer_count": getattr(organization, "customer_count", 0),
        "notes": organization.notes,
        "source": organization.source,
        "custom_fields": {k: v for k, v in organization.custom_fields.items() if k in field_keys},
        "created_at": organization.created_at,
        "updated_at": organization.updated_at,
    }


def customer_type_out(customer_type: CustomerType) -> dict[str, Any]:
    return {"id": customer_type.pk, "name": customer_type.name, "color": customer_type.color,
            "visible": customer_type.visible, "position": customer_type.position}


def custom_field_out(field: CustomField) -> dict[str, Any]:
    return {"id": field.pk, "applies_to": field.applies_to, "key": field.key, "label": field.label,
            "type": field.type, "required": field.required, "choices": field.choices,
            "help_text": field.help_text, "position": field.position}


def agent_out(agent: Agent, *, full: bool = True) -> dict[str, Any]:
    """`full` False (a non-admin asking): no admin flag and no creation date."""
    return {"id": agent.pk, "email": agent.email, "name": agent.name,
            "is_admin": agent.is_admin if full else None, "is_active": agent.is_active,
            "teams": [team.pk for team in agent.teams.all()], "created_at": agent.created_at if full else None}


def team_out(team: Team) -> dict[str, Any]:
    return {"id": team.pk, "name": team.name, "members": [agent.pk for agent in team.members.all()]}


def event_list(object_type: str, object_id: int) -> dict[str, Any]:
    events = [
        {"id": event.pk, "actor": event.actor_label, "actor_kind": event.actor_kind, "action": event.action,
         "detail": event.changes, "created_at": event.created_at}
        for event in history(object_type, object_id)
    ]
    return {"items": events, "count": len(events)}


def organization_or_none(organization_id: int | None, *, field: str = "organization") -> Organization | None:
    """The organization a body names by id (None for "No organization"); unknown ids are a 422."""
    if organization_id is None:
        return None
    try:
        return queries.get_organization(organization_id)
    except NotFound as exc:
        raise Invalid("unknown_organization", exc.message, field=field) from None


def follower_out(row: Follower) -> dict[str, Any]:
    if row.customer is not None:
        return {"type": "customer", "id": row.customer_id, "email": row.customer.email}
    assert row.agent is not None  # the follower_agent_xor_customer constraint: one of the two is set
    return {"type": "agent", "id": row.agent_id, "email": row.agent.email}


def item_out(item: Item, field_keys: set[str]) -> dict[str, Any]:
    """A ticket or task as DESIGN §7 shows it; `item` comes with work.queries.with_row_data."""
    requester = item.requester
    return {
        "id": item.pk,
        "reference": item.reference,
        "title": item.title,
        "description": item.description,
        "status": item.status.key,
        "priority": Priority(item.priority).key,
        "requester": requester.pk if requester else None,
        "requester_email": requester.email if requester else None,
        "organization": item.organization_id,
        "assignees": [{"type": "agent", "id": row.agent_id} if row.agent_id else {"type": "team", "id": row.team_id}
                      for row in item.assignee_rows],
        "followers": [follower_out(row) for row in item.follower_rows],
        "project": item.project_id,
        "folder": item.folder_id,
        "channel": item.channel,
        "sla": None,
        "custom_fields": {k: v for k, v in item.custom_fields.items() if k in field_keys},
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }


def attachment_out(attachment: Attachment) -> dict[str, Any]:
    return {"id": attachment.pk, "name": attachment.name, "content_type": attachment.content_type,
            "size": attachment.size,
            "url": reverse("api:attachment-download", kwargs={"attachment_id": attachment.pk})}


def message_out(message: Message) -> dict[str, Any]:
    """One conversation entry; `message` comes with work.queries.conversation (attachments
    prefetched) and its outbox rows (`outbound`) prefetched. `delivery` says what became of the
    mail it caused (a reply, an acknowledgement): queued, sent, kept (no EMAIL_URL) or failed,
    with the server's answer."""
    return {"id": message.pk, "kind": message.kind, "channel": message.channel,
            "author_email": message.author_email, "author_name": message.author_name, "body": message.body,
            "body_html": message.body_html, "full_body": message.full_body,
            "attachments": [attachment_out(row) for row in message.attachments.all()],
            "recipients": list(message.recipients or []),
            "delivery": [{"kind": row.kind, "to": list(row.to), "status": row.status, "attempts": row.attempts, "error": row.last_error,
                          "sent_at": row.sent_at} for row in message.outbound.all()],
            "created_at": message.created_at}


def item_event_out(event: AuditEvent) -> dict[str, Any]:
    return {"id": event.pk, "actor": event.actor_label, "actor_kind": event.actor_kind, "action": event.action,
            "detail": event.changes, "created_at": event.created_at}


def portfolio_out(portfolio: Portfolio) -> dict[str, Any]:
    count = getattr(portfolio, "project_count", None)
    return {"id": portfolio.pk, "name": portfolio.name,
            "project_count": portfolio.projects.count() if count is None else count,
            "created_at": portfolio.created_at}


def project_out(project: Project) -> dict[str, Any]:
    """`project` comes with its portfolio and organization (work.queries.project_list, get_project)."""
    return {"id": project.pk, "name": project.name, "portfolio": project.portfolio_id,
            "portfolio_name": project.portfolio.name if project.portfolio else None,
            "organization": project.organization_id,
            "organization_name": project.organization.name if project.organization else None,
            "created_at": project.created_at}


def folder_out(folder: Folder) -> dict[str, Any]:
    return {"id": folder.pk, "name": folder.name, "project": folder.project_id, "project_name": folder.project.name,
            "created_at": folder.created_at}


def time_entry_out(entry: TimeEntry) -> dict[str, Any]:
    return {"id": entry.pk, "item": entry.item_id, "item_reference": entry.item.reference,
            "item_title": entry.item.title, "agent": entry.agent_id, "agent_email": entry.agent.email,
            "minutes": entry.minutes, "date": entry.date.isoformat(), "note": entry.note,
            "billable": entry.billable, "created_at": entry.created_at}


def status_out(status: Status) -> dict[str, Any]:
    return {"id": status.pk, "kind": status.kind, "key": status.key, "label": status.label,
            "category": status.category, "position": status.position}


_NUMBERS = re.compile(r"[0-9]+")


def id_filter(value: str, *, field: str) -> str:
    """A list filter naming ids (`12`, `3,4`, `team:5`, `none`), returned as given; an id past the
    64-bit range is a 422 here, because SQLite cannot even compare it (an OverflowError, a 500)."""
    if any(len(number) > 19 or int(number) > MAX_ID for number in _NUMBERS.findall(value[:200])):
        raise Invalid(f"invalid_{field}", f"{field.capitalize()} is out of range.", field=field)
    return value


def mailbox_out(mailbox: Mailbox) -> dict[str, Any]:
    imap = None
    if mailbox.is_imap:
        imap = {
            "host": mailbox.imap_host, "port": mailbox.imap_port, "security": mailbox.imap_security,
            "username": mailbox.imap_username, "folder": mailbox.imap_folder, "poll_seconds": mailbox.poll_seconds,
            "password_set": bool(mailbox.imap_password), "last_poll_at": mailbox.last_poll_at,
            "last_poll_ok": mailbox.last_poll_ok, "last_poll_message": mailbox.last_poll_message,
        }
    return {"id": mailbox.pk, "address": mailbox.address, "name": mailbox.name, "imap": imap,
            "created_at": mailbox.created_at}


def never_follow_out(entry: NeverFollow) -> dict[str, Any]:
    return {"id": entry.pk, "address": entry.address, "mailbox": entry.mailbox_id, "created_at": entry.created_at}


def inbound_out(inbound: InboundEmail) -> dict[str, Any]:
    return {
        "id": inbound.pk, "status": inbound.status, "reason": inbound.reason, "message_id": inbound.rfc_message_id,
        "from": inbound.from_address, "subject": inbound.subject, "mailbox": inbound.mailbox_id,
        "mailbox_address": inbound.mailbox.address if inbound.mailbox_id and inbound.mailbox else None,
        "transport": inbound.transport, "size": inbound.size, "item": inbound.item_id, "attempts": inbound.attempts,
        "received_at": inbound.received_at, "processed_at": inbound.processed_at,
    }
