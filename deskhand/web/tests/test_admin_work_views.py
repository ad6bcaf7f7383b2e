"""Administration → Work: workflows, views and attachment settings; admins only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from deskhand.config.queries import get_settings
from deskhand.core.actors import SYSTEM
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Status
from deskhand.work.services.items import submit_ticket
from deskhand.work.services.statuses import create_status


def _keys(kind: str) -> list[str]:
    return list(Status.objects.filter(kind=kind).order_by("position", "id").values_list("key", flat=True))


@pytest.mark.parametrize(("method", "url"), [
    ("get", "/admin/work"), ("post", "/admin/work/statuses/ticket"), ("post", "/admin/work/statuses/1"),
    ("post", "/admin/work/views"), ("post", "/admin/work/attachments"),
])
def test_only_admins(agent_client: Client, method: str, url: str) -> None:
    before = get_settings()
    response = getattr(agent_client, method)(url, {"label": "Sneaky", "category": "open", "action": "delete",
                                                   "enabled_views": ["by_customer"], "default_view": "by_customer",
                                                   "max_mb": "1", "blocked": ""})
    assert response.status_code == 403
    assert not Status.objects.filter(label="Sneaky").exists() and get_settings() == before
    assert Status.objects.count() == 8


def test_page_shows_both_workflows_and_settings(admin_client: Client) -> None:
    response = admin_client.get("/admin/work")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Ticket workflow" in page and "Task workflow" in page and "Pending" in page
    assert "Use portfolios" in page and 'value="25"' in page and "exe" in page
    assert 'href="/admin/customers"' in page and 'href="/admin/work" aria-current="page"' in page
    assert 'href="/admin/work"' in admin_client.get("/admin/customers").content.decode()


def test_add_a_status(admin_client: Client) -> None:
    response = admin_client.post("/admin/work/statuses/ticket", {"label": "Waiting on customer",
                                                                 "category": "pending"})
    assert response.status_code == 302
    status = Status.objects.get(kind="ticket", key="waiting_on_customer")
    assert (status.label, status.category) == ("Waiting on customer", "pending")
    assert _keys("ticket")[-1] == "waiting_on_customer" and "waiting_on_customer" not in _keys("task")
    admin_client.post("/admin/work/statuses/task", {"label": "Review", "key": "in_review", "category": "open"})
    assert "in_review" in _keys("task")


def test_bad_statuses_show_a_field_error_and_add_nothing(admin_client: Client) -> None:
    for kind, data, code, message in [
        ("ticket", {"label": "", "category": "open"}, 422, "This field is required."),
        ("ticket", {"label": "2nd line", "category": "open"}, 422, "A status key is lower-case letters"),
        ("ticket", {"label": "Again", "key": "open", "category": "open"}, 409, "already has a status"),
        ("ticket", {"label": "Odd", "category": "closed"}, 422, "Select a valid choice"),
        ("task", {"label": "Bad key", "key": "Bad Key", "category": "open"}, 422, "A status key is lower-case"),
    ]:
        response = admin_client.post(f"/admin/work/statuses/{kind}", data)
        page = response.content.decode()
        assert response.status_code == code, data
        assert 'class="field-error"' in page and message in page, data
    assert Status.objects.count() == 8
    assert admin_client.post("/admin/work/statuses/widget", {"label": "X", "category": "open"}).status_code == 404


def test_rename_and_recategorise(admin_client: Client) -> None:
    status = create_status(kind="ticket", key="waiting", label="Waiting", category="pending", actor=SYSTEM)
    response = admin_client.post(f"/admin/work/statuses/{status.pk}", {"action": "save", "label": "On hold",
                                                                        "category": "open"})
    assert response.status_code == 302
    status.refresh_from_db()
    assert (status.label, status.category) == ("On hold", "open")
    built_in = Status.objects.get(kind="ticket", key="open")
    admin_client.post(f"/admin/work/statuses/{built_in.pk}", {"action": "save", "label": "In progress"})
    built_in.refresh_from_db()
    assert built_in.label == "In progress" and built_in.category == "open"
    response = admin_client.post(f"/admin/work/statuses/{built_in.pk}", {"action": "save", "label": "In progress",
                                                                          "category": "done"})
    assert response.status_code == 422 and "always means open" in response.content.decode()
    response = admin_client.post(f"/admin/work/statuses/{built_in.pk}", {"action": "save", "label": ""})
    assert response.status_code == 422 and "Enter a label" in response.content.decode()
    built_in.refresh_from_db()
    assert (built_in.label, built_in.category) == ("In progress", "open")


def test_reorder(admin_client: Client) -> None:
    assert _keys("ticket") == ["new", "open", "pending", "done"]
    pending = Status.objects.get(kind="ticket", key="pending")
    admin_client.post(f"/admin/work/statuses/{pending.pk}", {"action": "up"})
    assert _keys("ticket") == ["new", "pending", "open", "done"]
    admin_client.post(f"/admin/work/statuses/{pending.pk}", {"action": "up"})
    admin_client.post(f"/admin/work/statuses/{pending.pk}", {"action": "up"})  # already first: nothing
    assert _keys("ticket") == ["pending", "new", "open", "done"]
    done = Status.objects.get(kind="ticket", key="done")
    admin_client.post(f"/admin/work/statuses/{done.pk}", {"action": "down"})  # already last
    admin_client.post(f"/admin/work/statuses/{pending.pk}", {"action": "down"})
    assert _keys("ticket") == ["new", "pending", "open", "done"]
    assert _keys("task") == ["new", "open", "pending", "done"]


def test_remove_a_status_unless_it_is_in_use_or_built_in(admin_client: Client) -> None:
    unused = create_status(kind="ticket", key="unused", label="Unused", category="open", actor=SYSTEM)
    used = create_status(kind="ticket", key="waiting", label="Waiting", category="pending", actor=SYSTEM)
    submit_ticket(ItemDraft(title="Stuck", requester_email="bob@acme.example", status="waiting"), actor=SYSTEM)
    response = admin_client.post(f"/admin/work/statuses/{unused.pk}", {"action": "delete"})
    assert response.status_code == 302 and not Status.objects.filter(pk=unused.pk).exists()
    response = admin_client.post(f"/admin/work/statuses/{used.pk}", {"action": "delete"})
    assert response.status_code == 409
    assert "Items are in “Waiting”; move them to another status first." in response.content.decode()
    built_in = Status.objects.get(kind="task", key="pending")
    response = admin_client.post(f"/admin/work/statuses/{built_in.pk}", {"action": "delete"})
    assert response.status_code == 409 and "cannot be removed" in response.content.decode()
    assert Status.objects.filter(pk__in=[used.pk, built_in.pk]).count() == 2
    assert admin_client.post("/admin/work/statuses/999999", {"action": "delete"}).status_code == 404


def test_view_settings(admin_client: Client) -> None:
    response = admin_client.post("/admin/work/views", {"enabled_views": ["by_portfolio", "by_customer"],
                                                       "default_view": "by_customer"})
    assert response.status_code == 302
    settings = get_settings()
    assert settings["default_view"] == "by_customer" and settings["portfolios_enabled"] is False
    admin_client.post("/admin/work/views", {"enabled_views": ["by_portfolio"], "default_view": "by_portfolio",
                                            "portfolios_enabled": "on"})
    settings = get_settings()
    assert settings["enabled_views"] == ["by_portfolio"] and settings["portfolios_enabled"] is True


def test_bad_view_settings_show_a_field_error_and_save_nothing(admin_client: Client) -> None:
    before = get_settings()
    for data, message in [
        ({"default_view": "by_portfolio"}, "Keep at least one view."),
        ({"enabled_views": ["by_customer"], "default_view": "by_portfolio"}, "default_view must be one of"),
        ({"enabled_views": ["by_magic"], "default_view": "by_portfolio"}, "Select a valid choice"),
    ]:
        response = admin_client.post("/admin/work/views", data)
        assert response.status_code == 422 and message in response.content.decode(), data
    assert get_settings() == before


def test_attachment_settings(admin_client: Client) -> None:
    response = admin_client.post("/admin/work/attachments", {"max_mb": "10", "blocked": "exe, .BAT\nps1 exe"})
    assert response.status_code == 302
    settings = get_settings()
    assert settings["attachment_max_bytes"] == 10 * 1024 * 1024
    assert settings["blocked_attachment_extensions"] == ["bat", "exe", "ps1"]
    page = admin_client.get("/admin/work").content.decode()
    assert 'value="10"' in page and "bat exe ps1" in page
    admin_client.post("/admin/work/attachments", {"max_mb": "0.5", "blocked": ""})
    assert get_settings()["attachment_max_bytes"] == 512 * 1024
    assert get_settings()["blocked_attachment_extensions"] == []
    assert 'value="0.50"' in admin_client.get("/admin/work").content.decode()


def test_bad_attachment_settings_show_a_field_error(admin_client: Client) -> None:
    before = get_settings()
    for data, message in [
        ({"max_mb": "0", "blocked": "exe"}, "greater than or equal to 0.01"),
        ({"max_mb": "lots", "blocked": "exe"}, "Enter a number."),
        ({"max_mb": "2000", "blocked": "exe"}, "less than or equal to 1024"),
        ({"max_mb": "5", "blocked": "ex-e"}, "holds extensions of letters and digits"),
    ]:
        response = admin_client.post("/admin/work/attachments", data)
        page = response.content.decode()
        assert response.status_code == 422 and 'class="field-error"' in page and message in page, data
    assert get_settings() == before


def test_admin_work_query_count(admin_client: Client, django_assert_max_num_queries: Any) -> None:
    for index in range(10):
        create_status(kind="task", key=f"step_{index}", label=f"Step {index}", category="open", actor=SYSTEM)
    with django_assert_max_num_queries(10):
        admin_client.get("/admin/work")
