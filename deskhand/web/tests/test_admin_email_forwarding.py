"""Administration → Email: the forwarding guide, the declared forwarding address, the test mail and
the confirmation mails of Gmail and Microsoft, with Django's test client."""

from __future__ import annotations

import pytest
from django.test import Client

from deskhand.agents.models import Agent
from deskhand.config.queries import get_setting
from deskhand.core.actors import SYSTEM
from deskhand.ingest.pipeline import process_ids
from deskhand.ingest.receive import receive_raw
from deskhand.mail.models import ForwardingConfirmation, ForwardingTest, InboundEmail, NeverFollow, OutboundMessage
from deskhand.mail.services import create_mailbox
from deskhand.mail.tests.test_forwarding import fixture

pytestmark = pytest.mark.django_db


def _deliver(raw: bytes, envelope_from: str) -> InboundEmail:
    inbound = receive_raw(raw, process=False, transport="smtp", envelope_from=envelope_from,
                          envelope_to=["support@deskhand.test"])
    process_ids([inbound.pk])
    return inbound


def test_the_guide_names_the_ticket_address_and_the_listener(admin_client: Client, settings: object) -> None:
    create_mailbox(address="support@deskhand.test", actor=SYSTEM)
    page = admin_client.get("/admin/email").content.decode()
    for text in ("Set up forwarding", "Gmail / Google Workspace", "Outlook / Microsoft 365", "Other mail server",
                 "Add a forwarding address", "Manage email forwarding", "MX 10", 'id="listener-address">127.0.0.1:2525',
                 '<label for="forwarding_address">Address you forward from</label>', "Send a test mail"):
        assert text in page, text
    assert page.count('role="tab"') == 3 and page.count('role="tabpanel"') == 3
    assert page.count("support@deskhand.test") >= 4


def test_declaring_the_address_puts_it_on_the_never_follow_list(admin_client: Client) -> None:
    response = admin_client.post("/admin/email/forwarding", {"address": "Support@YourCompany.com"})
    assert response.status_code == 302 and response["Location"] == "/admin/email#forwarding"
    assert get_setting("forwarding_address") == "support@yourcompany.com"
    assert NeverFollow.objects.filter(address__iexact="support@yourcompany.com").exists()
    page = admin_client.get("/admin/email").content.decode()
    assert 'value="support@yourcompany.com"' in page and "No mail has come through support@yourcompany.com yet." in page


@pytest.mark.parametrize("address", ["not an address", "a@b", "x" * 300 + "@example.com"])
def test_a_bad_address_stays_at_the_field(admin_client: Client, address: str) -> None:
    response = admin_client.post("/admin/email/forwarding", {"address": address})
    assert response.status_code == 422 and 'class="field-error"' in response.content.decode()
    assert get_setting("forwarding_address") == "" and not NeverFollow.objects.exists()


def test_a_ticket_address_cannot_be_the_forwarding_address(admin_client: Client) -> None:
    create_mailbox(address="support@deskhand.test", actor=SYSTEM)
    response = admin_client.post("/admin/email/forwarding", {"address": "support@deskhand.test"})
    assert response.status_code == 422 and "is a ticket address" in response.content.decode()


def test_send_a_test_mail_and_see_its_status(admin_client: Client) -> None:
    create_mailbox(address="support@deskhand.test", actor=SYSTEM)
    refused = admin_client.post("/admin/email/forwarding/test")
    assert refused.status_code == 422 and "Enter the address you forward from first." in refused.content.decode()
    admin_client.post("/admin/email/forwarding", {"address": "support@yourcompany.com"})
    response = admin_client.post("/admin/email/forwarding/test")
    assert response.status_code == 302
    outbound = OutboundMessage.objects.get(kind="forwarding_test")
    assert outbound.to == ["support@yourcompany.com"] and "support@deskhand.test" in outbound.headers["From"]
    page = admin_client.get("/admin/email").content.decode()
    assert "Sent to support@yourcompany.com at" in page
    assert ForwardingTest.objects.get().rfc_message_id == outbound.rfc_message_id


def test_only_admins_set_up_forwarding(agent_client: Client) -> None:
    assert agent_client.post("/admin/email/forwarding", {"address": "support@yourcompany.com"}).status_code == 403
    assert agent_client.post("/admin/email/forwarding/test").status_code == 403
    assert get_setting("forwarding_address") == "" and not OutboundMessage.objects.exists()


def test_forms_need_the_csrf_token(admin: Agent) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert client.post("/admin/email/forwarding", {"address": "support@yourcompany.com"}).status_code == 403
    assert client.post("/admin/email/forwarding/test").status_code == 403


def test_confirmations_are_shown_with_a_safe_link_and_the_code(admin_client: Client) -> None:
    create_mailbox(address="support@deskhand.test", actor=SYSTEM)
    _deliver(fixture("gmail_forwarding_confirmation.eml"), "forwarding-noreply@google.com")
    _deliver(fixture("microsoft_forwarding_verification.eml"), "account-security-noreply@accountprotection.microsoft.com")
    page = admin_client.get("/admin/email").content.decode()
    assert "Confirmation mails" in page and "538827133" in page and "4821" in page
    assert ('<a href="https://mail-settings.google.com/mail/vf-%5BANGjdJ8wS7Ys-dWr0bbQ5K1LRNUg7pWUfxz9HCg3A8s2bNVrE'
            '%5D-ZuWJbXtrr1XY1FzwYMa9qkGd3Rc" rel="noopener noreferrer" target="_blank"') in page
    assert 'href="https://outlook.live.com/mail/options/mail/forwarding/verify?token=' in page
    # A stored link that is not the provider's (an older row, a hand edit) is never a link.
    ForwardingConfirmation.objects.filter(provider="gmail").update(link="https://evil.example/vf-x")
    page = admin_client.get("/admin/email").content.decode()
    assert "evil.example" not in page and "No link" in page
