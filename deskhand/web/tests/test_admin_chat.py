"""Administration → Customer apps → Live chat."""

from __future__ import annotations

import pytest
from django.test import Client

from deskhand.config.queries import get_settings
from deskhand.core.actors import SYSTEM, Actor
from deskhand.sla.inputs import HoursInput, PolicyInput, TargetInput
from deskhand.sla.models import SlaPolicy
from deskhand.sla.services import create_policy, delete_policy

pytestmark = pytest.mark.django_db

DEFAULTS = {"chat_enabled": True, "chat_accept_seconds": 120, "chat_hours_policy": None}


def _policy(name: str = "Office", *, hours: bool = True) -> SlaPolicy:
    return create_policy(PolicyInput(name=name, targets=[TargetInput(priority="normal", first_response_minutes=60)],
                                     business_hours=HoursInput() if hours else None), actor=SYSTEM)


def _chat_settings() -> dict[str, object]:
    values = get_settings()
    return {name: values[name] for name in DEFAULTS}


def test_the_section_shows_the_current_settings_and_the_policies(admin_client: Client) -> None:
    _policy("Office")
    _policy("Round the clock", hours=False)
    page = admin_client.get("/admin/apps").content.decode()
    assert 'id="chat-title"' in page and "Live chat" in page
    assert 'id="chat-enabled" name="enabled" checked' in page
    assert 'name="accept_seconds" type="number" min="10" max="86400" step="1" value="120"' in page
    assert '<option value="">Always open</option>' in page
    assert ">Office</option>" in page and ">Round the clock (24/7)</option>" in page
    assert "Right now customers can start a chat." in page


def test_save_live_chat(admin_client: Client, client: Client) -> None:
    office = _policy("Office")
    response = admin_client.post("/admin/apps/chat", {"accept_seconds": "45", "hours_policy": str(office.pk)})
    assert response.status_code == 302 and response["Location"].endswith("/admin/apps#chat-title")
    assert _chat_settings() == {"chat_enabled": False, "chat_accept_seconds": 45, "chat_hours_policy": office.pk}
    page = admin_client.get("/admin/apps").content.decode()
    assert "Live chat saved." in page
    assert 'id="chat-enabled" name="enabled">' in page and 'value="45"' in page
    assert f'<option value="{office.pk}" selected>Office</option>' in page
    assert "Right now customers can only leave a message." in page
    # What visitors see follows at once.
    assert client.get("/widget/chat/availability?lang=en").json()["open"] is False

    admin_client.post("/admin/apps/chat", {"enabled": "on", "accept_seconds": "300", "hours_policy": ""})
    assert _chat_settings() == {"chat_enabled": True, "chat_accept_seconds": 300, "chat_hours_policy": None}
    assert client.get("/widget/chat/availability?lang=en").json()["open"] is True


@pytest.mark.parametrize(("seconds", "policy"), [
    ("5", ""), ("86401", ""), ("", ""), ("two minutes", ""), ("1_000", ""), ("²", ""), ("9" * 40, ""),
    ("60", "999999"), ("60", "abc"), ("60", "-1"), ("60", "9" * 40),
])
def test_bad_input_says_what_and_changes_nothing(admin_client: Client, seconds: str, policy: str) -> None:
    response = admin_client.post("/admin/apps/chat", {"enabled": "on", "accept_seconds": seconds,
                                                      "hours_policy": policy})
    assert response.status_code == 302
    assert _chat_settings() == DEFAULTS
    page = admin_client.get("/admin/apps").content.decode()
    assert "Live chat saved." not in page
    expected = ("There is no such SLA policy" if policy
                else "The accept timeout is a whole number of seconds from 10 to 86400.")
    assert expected in page


def test_a_deleted_policy_shows_as_always_open(admin_client: Client, admin_actor: Actor) -> None:
    office = _policy("Office")
    admin_client.post("/admin/apps/chat", {"enabled": "on", "accept_seconds": "120", "hours_policy": str(office.pk)})
    delete_policy(office, actor=admin_actor)
    page = admin_client.get("/admin/apps").content.decode()
    assert '<option value="">Always open</option>' in page and "selected" not in page.split('id="chat-hours-policy"')[1].split("</select>")[0]
    assert "Right now customers can start a chat." in page


def test_only_admins(agent_client: Client, client: Client) -> None:
    assert agent_client.post("/admin/apps/chat", {"accept_seconds": "30"}).status_code == 403
    assert client.post("/admin/apps/chat", {"accept_seconds": "30"}).status_code in (302, 403)
    assert _chat_settings() == DEFAULTS
