"""Customer accounts: registering with a verification mail, the links (signed, expiring, once),
sign-in, reset and invitations, and the answers that never tell whether an address is known."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import signing

from deskhand.accounts import services
from deskhand.accounts.inputs import Registration
from deskhand.accounts.models import CustomerAccount
from deskhand.accounts.services import Purpose
from deskhand.core.actors import Actor
from deskhand.core.errors import Invalid, NotFound
from deskhand.customers.models import Customer, Organization
from deskhand.mail.models import OutboundMessage

PASSWORD = "quiet-harbour-41"


def _mails(address: str) -> list[OutboundMessage]:
    return list(OutboundMessage.objects.filter(recipient_key=address.lower()).order_by("id"))


def _token(mail: OutboundMessage) -> str:
    found = re.search(r"/portal/[a-z-]+/([^\s/]+)", mail.body_text)
    assert found, mail.body_text
    return found.group(1)


def _register(email: str = "zoe@acme.example", password: str = PASSWORD) -> services.Registered:
    return services.register(Registration(email=email, name="Zoë Example", password=password))


def test_registering_files_the_customer_and_mails_a_verification_link(db: Any, acme: Organization) -> None:
    registered = _register()
    assert registered.mail == "portal_verify" and registered.mark
    customer = Customer.objects.get(email_key="zoe@acme.example")
    assert customer.organization == acme and customer.source == "portal" and customer.name == "Zoë Example"
    account = CustomerAccount.objects.get(customer=customer)
    assert account.verified_at is None and account.password == "" and account.pending_password
    assert services.authenticate("zoe@acme.example", PASSWORD) is None  # not before the link is opened
    [mail] = _mails("zoe@acme.example")
    assert mail.kind == "portal_verify" and "Confirm" in mail.subject and "/portal/verify/" in mail.body_text
    verified = services.verify(_token(mail), mark=registered.mark)
    assert verified.verified_at is not None and verified.password
    assert services.authenticate("ZOE@acme.example", PASSWORD) == verified
    assert services.authenticate("zoe@acme.example", "wrong-password-1") is None
    with pytest.raises(NotFound) as used:
        services.verify(_token(mail), mark=registered.mark)
    assert used.value.status == 410


def test_a_link_opened_elsewhere_verifies_but_keeps_no_stranger_password(db: Any) -> None:
    _register()  # perhaps by someone who does not own the address
    account = services.verify(_token(_mails("zoe@acme.example")[0]), mark="")
    assert account.verified_at is not None and account.password == "" and account.pending_password == ""
    assert services.authenticate("zoe@acme.example", PASSWORD) is None
    services.set_password(account, "another-harbour-42")
    assert services.authenticate("zoe@acme.example", "another-harbour-42") == account


def test_registering_again_never_hands_the_account_to_the_second_password(db: Any) -> None:
    """The owner registers; a stranger registers the same address with their own password; the
    owner opens the newer mail in their browser: signed in, but neither password is kept."""
    owner = _register()
    _register(password="attacker-choice-77")
    with pytest.raises(NotFound):  # the owner's first link died with the second registration
        services.verify(_token(_mails("zoe@acme.example")[0]), mark=owner.mark)
    account = services.verify(_token(_mails("zoe@acme.example")[-1]), mark=owner.mark)
    assert account.verified_at is not None and account.password == ""
    assert services.authenticate("zoe@acme.example", "attacker-choice-77") is None


def test_a_known_address_gets_a_mail_not_a_different_answer(db: Any) -> None:
    registered = _register()
    services.verify(_token(_mails("zoe@acme.example")[0]), mark=registered.mark)
    assert _register(password="attacker-choice-77").mail == "portal_known"
    assert services.authenticate("zoe@acme.example", PASSWORD) is not None  # nothing changed
    assert services.authenticate("zoe@acme.example", "attacker-choice-77") is None
    known = _mails("zoe@acme.example")[-1]
    assert known.kind == "portal_known" and "/portal/link/" in known.body_text


@pytest.mark.parametrize(("email", "password", "field"), [
    ("not an address", PASSWORD, "email"),
    ("zoe@acme.example", "short", "password"),
    ("zoe@acme.example", "12345678901", "password"),
    ("zoe@acme.example", "password", "password"),
    ("zoe@acme.example", "x" * 129, "password"),
])
def test_bad_registrations_name_the_field_and_change_nothing(db: Any, email: str, password: str, field: str) -> None:
    with pytest.raises(Invalid) as error:
        _register(email, password)
    assert error.value.field == field
    assert not Customer.objects.exists() and not OutboundMessage.objects.exists()


def test_sign_in_and_reset_links_work_once_and_only_for_known_customers(db: Any) -> None:
    from deskhand.customers.services import find_or_create_customer

    customer, _ = find_or_create_customer("max@globex.example", source="email", actor=Actor.customer("x"))
    assert services.send_link("nobody@nowhere.example", Purpose.SIGN_IN) is False
    assert services.send_link("MAX@globex.example", Purpose.SIGN_IN) is True
    [mail] = _mails("max@globex.example")
    account = services.use_link(_token(mail), Purpose.SIGN_IN)
    assert account.customer == customer and account.verified_at is not None
    with pytest.raises(NotFound):
        services.use_link(_token(mail), Purpose.SIGN_IN)
    with pytest.raises(NotFound):  # a sign-in link is not a reset link
        services.use_link(_token(mail), Purpose.RESET)
    services.send_link("max@globex.example", Purpose.RESET)
    reset = _mails("max@globex.example")[-1]
    assert reset.kind == "portal_reset" and "/portal/password/" in reset.body_text
    services.use_link(_token(reset), Purpose.RESET)


def test_tampered_and_expired_links_are_refused(db: Any, settings: Any) -> None:
    _register()
    token = _token(_mails("zoe@acme.example")[0])
    with pytest.raises(NotFound) as bad:
        services.verify(token[:-2] + ("AA" if not token.endswith("AA") else "BB"), mark="")
    assert bad.value.status == 404
    forged = signing.dumps({"a": 1, "f": "x"}, salt="deskhand.accounts.verify", compress=True)
    with pytest.raises(NotFound):
        services.verify(forged, mark="")
    services.LINK_AGE[Purpose.VERIFY], old = services.LINK_AGE[Purpose.VERIFY] * -1, services.LINK_AGE[Purpose.VERIFY]
    try:
        with pytest.raises(NotFound) as expired:
            services.verify(token, mark="")
        assert expired.value.status == 410 and "expired" in expired.value.message
    finally:
        services.LINK_AGE[Purpose.VERIFY] = old


def test_an_address_gets_at_most_five_portal_mails_an_hour(db: Any) -> None:
    registered = _register()
    for _ in range(8):
        services.send_link("zoe@acme.example", Purpose.SIGN_IN)
    assert len(_mails("zoe@acme.example")) == services.MAILS_PER_HOUR
    assert _register(password="attacker-choice-77").mail == ""  # capped: the pending password stays
    account = services.verify(_token(_mails("zoe@acme.example")[0]), mark=registered.mark)
    assert services.authenticate("zoe@acme.example", PASSWORD) == account


def test_an_agent_invites_a_customer_to_set_a_password(db: Any, admin_actor: Actor) -> None:
    from deskhand.customers.services import find_or_create_customer

    customer, _ = find_or_create_customer("max@globex.example", source="agent", actor=admin_actor)
    services.invite(customer, actor=admin_actor)
    [mail] = _mails("max@globex.example")
    assert mail.kind == "portal_invite" and "/portal/password/" in mail.body_text
    account = services.use_link(_token(mail), Purpose.INVITE)
    services.set_password(account, "fresh-harbour-43")
    assert services.authenticate("max@globex.example", "fresh-harbour-43") == account
