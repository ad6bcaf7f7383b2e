"""Customers' portal accounts: registering (the address verified by a link in the mail), signing
in with a password or a link by mail, resetting a password, and agents' invitations.

Every link in these mails is signed, expires, and works once: it carries a fingerprint of the
account's state (the pending password for a verification; the password and the last sign-in for
the others), and using it changes that state. Answers never say whether an address has an
account: a known address gets a mail saying so instead of a different page. Mails to one address
are capped per hour, so that the public forms cannot be used to flood a mailbox."""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import check_password, make_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _

from deskhand.accounts.inputs import Registration
from deskhand.accounts.models import CustomerAccount
from deskhand.audit.services import record
from deskhand.core.actors import Actor
from deskhand.core.emailaddr import AddressError, parse_email
from deskhand.core.errors import Invalid, NotFound
from deskhand.core.i18n import supported_language
from deskhand.customers.models import Customer, Source
from deskhand.customers.queries import find_customer_by_email
from deskhand.customers.services import find_or_create_customer
from deskhand.mail.models import OutboundMessage
from deskhand.mail.outbound import NewOutbound, queue_outbound

SALT = "deskhand.accounts"
MAX_PASSWORD = 128
MAILS_PER_HOUR = 5  # portal mails to one address; more are dropped without a word


class Purpose(StrEnum):
    VERIFY = "verify"  # the link after registering
    SIGN_IN = "sign_in"  # "Email me a sign-in link"
    RESET = "reset"  # "Forgot your password?"
    INVITE = "invite"  # an agent's invitation: set a password


LINK_AGE: dict[Purpose, datetime.timedelta] = {
    Purpose.VERIFY: datetime.timedelta(days=3),
    Purpose.SIGN_IN: datetime.timedelta(minutes=30),
    Purpose.RESET: datetime.timedelta(hours=2),
    Purpose.INVITE: datetime.timedelta(days=14),
}
# Where each link leads (portal URL names) and which mail carries it.
LINK_VIEW = {Purpose.VERIFY: "portal:verify", Purpose.SIGN_IN: "portal:link", Purpose.RESET: "portal:set-password",
             Purpose.INVITE: "portal:set-password"}
MAIL_KINDS = ("portal_verify", "portal_known", "portal_sign_in", "portal_reset", "portal_invite")


class LinkExpired(NotFound):
    status = 410


def _actor(customer: Customer) -> Actor:
    return Actor.customer(customer.email)


def _record(customer: Customer, action: str, actor: Actor, **changes: object) -> None:
    record(actor=actor, action=f"portal.{action}", object_type="customer", object_id=customer.pk,
           object_label=customer.email, changes=dict(changes))


def check_new_password(password: str, *, email: str = "", name: str = "") -> None:
    """Django's validators (length, common, like the address or name, all digits), as a 422."""
    if len(password) > MAX_PASSWORD:
        raise Invalid("invalid_password", _("A password has at most %(count)s characters.") % {"count": MAX_PASSWORD},
                      field="password")

    class _Person:  # what UserAttributeSimilarityValidator compares with
        def __init__(self) -> None:
            self.email, self.name = email, name

    try:
        password_validation.validate_password(password, user=_Person())  # type: ignore[arg-type]
    except ValidationError as exc:
        raise Invalid("invalid_password", " ".join(exc.messages), field="password") from None


def _fingerprint(account: CustomerAccount, purpose: Purpose) -> str:
    state = account.pending_password if purpose == Purpose.VERIFY else (
        f"{account.password}|{account.last_login_at}|{account.verified_at}")
    return salted_hmac(SALT, f"{account.pk}|{purpose}|{state}", algorithm="sha256").hexdigest()[:24]


def make_link(account: CustomerAccount, purpose: Purpose) -> str:
    token = signing.dumps({"a": account.pk, "f": _fingerprint(account, purpose)}, salt=f"{SALT}.{purpose}",
                          compress=True)
    return f"{settings.PUBLIC_ORIGIN}{reverse(LINK_VIEW[purpose], kwargs={'token': token})}"


def read_link(token: str, purpose: Purpose, *, lock: bool = False) -> CustomerAccount:
    """The account a link is for; NotFound (tampered, unknown) or LinkExpired (old, or used).
    `lock`: the row is locked until the caller's transaction ends, so a link used twice at the
    same moment works once."""
    try:
        data = signing.loads(token[:2000], salt=f"{SALT}.{purpose}", max_age=LINK_AGE[purpose])
    except signing.SignatureExpired:
        raise LinkExpired("link_expired", _("This link has expired. Ask for a new one.")) from None
    except signing.BadSignature:
        raise NotFound("link_invalid", _("This link is not valid. Copy the whole link from the mail.")) from None
    pk = data.get("a") if isinstance(data, dict) else None
    rows = CustomerAccount.objects.select_for_update(of=("self",)) if lock else CustomerAccount.objects
    account = rows.select_related("customer").filter(pk=pk).first() if isinstance(pk, int) else None
    if account is None or not constant_time_compare(str(data.get("f", "")), _fingerprint(account, purpose)):
        raise LinkExpired("link_used", _("This link has been used already. Ask for a new one."))
    return account


def _mail(account: CustomerAccount, kind: str, purpose: Purpose | None = None, **context: object) -> bool:
    """Queue one portal mail to the account's address, unless the address had its hourly share."""
    address = account.customer.email
    if _capped(account):
        return False
    links = {"link": make_link(account, purpose)} if purpose else {}
    seconds = int(LINK_AGE[purpose].total_seconds()) if purpose else 0
    queue_outbound([NewOutbound(kind=kind, to=[address], auto=True, language=account.customer.language, context={
        "customer": account.customer, "hours": seconds // 3600, "minutes": seconds // 60,
        # Whole days, when the age is some (two days and more): "14 days" rather than "336 hours".
        "days": seconds // 86400 if seconds >= 2 * 86400 and not seconds % 86400 else 0, **links, **context})])
    return True


@dataclass(frozen=True)
class Registered:
    """What registering did: `mail` is the mail's kind (for tests: the page says the same either
    way); `mark` identifies this registration, for the browser that made it to keep (`verify`)."""

    mail: str
    mark: str = ""


def verify_mark(account: CustomerAccount) -> str:
    """The registration a verification link belongs to (its pending password's fingerprint)."""
    return _fingerprint(account, Purpose.VERIFY) if account.pending_password else ""


def _capped(account: CustomerAccount) -> bool:
    since = timezone.now() - datetime.timedelta(hours=1)
    return OutboundMessage.objects.filter(recipient_key=account.customer.email.lower()[:254], auto_submitted=True,
                                          kind__in=MAIL_KINDS, created_at__gte=since).count() >= MAILS_PER_HOUR


@transaction.atomic
def register(registration: Registration) -> Registered:
    """A customer registers: found or created by the customer rules, with the password pending
    until the link in the mail is opened. An address with a working account gets a mail saying
    so (with a sign-in link) and nothing changes; so does an address that had its share of mail
    this hour (a new registration would kill the link already sent)."""
    try:
        email = parse_email(registration.email[:1000]).address
    except AddressError:  # said in the customer's language, not the address parser's
        raise Invalid("invalid_email", _("Enter a valid email address."), field="email") from None
    name = registration.name.strip()[:200]
    check_new_password(registration.password, email=email, name=name)
    customer, _created = find_or_create_customer(email, name=name, language=registration.language[:16],
                                                 source=Source.PORTAL, actor=Actor.customer(email))
    account, _new = CustomerAccount.objects.select_for_update().get_or_create(customer=customer)
    hashed = make_password(registration.password)  # on every path: the time says nothing either
    if account.verified_at is not None and account.password:
        _mail(account, "portal_known", Purpose.SIGN_IN)
        _record(customer, "register_known", _actor(customer))
        return Registered("portal_known")
    if _capped(account):
        _record(customer, "register_capped", _actor(customer))
        return Registered("")
    account.pending_password = hashed
    account.save(update_fields=["pending_password", "updated_at"])
    _mail(account, "portal_verify", Purpose.VERIFY)
    _record(customer, "registered", _actor(customer))
    return Registered("portal_verify", verify_mark(account))


@transaction.atomic
def verify(token: str, *, mark: str) -> CustomerAccount:
    """The verification link: the address is the customer's. The password chosen when
    registering becomes the account's only when the link is opened in the browser that made this
    very registration (`mark`, from `Registered`); elsewhere the customer is signed in and asked
    to choose one, so that a stranger who registered someone else's address (before or after its
    owner) never holds a working password for it."""
    account = read_link(token, Purpose.VERIFY, lock=True)
    now = timezone.now()
    same_browser = bool(mark) and constant_time_compare(mark, verify_mark(account))
    if same_browser and account.pending_password:
        account.password = account.pending_password
    account.pending_password = ""
    account.verified_at = account.verified_at or now
    account.last_login_at = now
    account.save()
    _record(account.customer, "verified", _actor(account.customer), password_kept=bool(account.password))
    return account


@transaction.atomic
def use_link(token: str, purpose: Purpose) -> CustomerAccount:
    """A sign-in, reset or invitation link, once: it proves the address (verified from now on)
    and signs the customer in."""
    account = read_link(token, purpose, lock=True)
    now = timezone.now()
    account.verified_at = account.verified_at or now
    account.last_login_at = now
    account.save(update_fields=["verified_at", "last_login_at", "updated_at"])
    _record(account.customer, f"{purpose}_link_used", _actor(account.customer))
    return account


def _live_customer(email: str) -> Customer | None:
    try:
        key = parse_email(email[:1000]).key
    except AddressError:
        return None
    return find_customer_by_email(key)


@functools.cache
def _dummy() -> str:
    """Compared against when an address has no password, so that a miss costs what a hit costs
    (made when first needed: the hasher is a setting)."""
    return make_password("no account has this password")


def authenticate(email: str, password: str) -> CustomerAccount | None:
    """The account of a verified customer whose password this is, or None (for any reason)."""
    customer = _live_customer(email)
    account = CustomerAccount.objects.select_related("customer").filter(customer=customer).first() \
        if customer is not None else None
    if account is None or not account.password or account.verified_at is None:
        check_password(password, _dummy())
        return None
    if not check_password(password[:MAX_PASSWORD], account.password):
        return None
    account.last_login_at = timezone.now()
    account.save(update_fields=["last_login_at", "updated_at"])
    return account


@transaction.atomic
def send_link(email: str, purpose: Purpose) -> bool:
    """"Email me a sign-in link" and "Forgot your password?": a link to a known customer's
    address (an account is made for a customer who never registered: the link proves the
    address). Nothing for an unknown address, and the page says the same."""
    customer = _live_customer(email)
    if customer is None:
        return False
    account, _new = CustomerAccount.objects.select_for_update().get_or_create(customer=customer)
    kind = "portal_sign_in" if purpose == Purpose.SIGN_IN else "portal_reset"
    sent = _mail(account, kind, purpose)
    _record(customer, f"{purpose}_link_sent" if sent else f"{purpose}_link_capped", _actor(customer))
    return sent


@transaction.atomic
def set_password(account: CustomerAccount, password: str) -> CustomerAccount:
    """A signed-in customer (or one who came by a reset or invitation link) sets a password."""
    check_new_password(password, email=account.customer.email, name=account.customer.name)
    account.password = make_password(password)
    account.pending_password = ""
    account.verified_at = account.verified_at or timezone.now()
    account.save()
    _record(account.customer, "password_set", _actor(account.customer))
    return account


@transaction.atomic
def invite(customer: Customer, *, actor: Actor) -> CustomerAccount:
    """An agent invites a customer to the portal: a mail with a link to set a password."""
    account, _new = CustomerAccount.objects.select_for_update().get_or_create(customer=customer)
    if not _mail(account, "portal_invite", Purpose.INVITE, inviter=actor.label):
        raise Invalid("too_many_mails", f"{customer.email} was sent {MAILS_PER_HOUR} portal mails in the last "
                      "hour; try again later.", field="customer")
    _record(customer, "invited", actor)
    return account


def record_preview(customer: Customer, *, actor: Actor) -> None:
    """An agent opened the portal as this customer sees it (read-only): the customer's history says so."""
    _record(customer, "previewed", actor)


def learn_language(customer: Customer, language: str) -> bool:
    """A customer without a language takes the one their browser asked for (registering, or a
    first visit to the portal); a language they have is never replaced. True when it was set."""
    language = supported_language(language)
    if customer.language or not language:
        return False
    # Conditional: a language set meanwhile (by an agent, by a mail) wins.
    learnt = bool(Customer.objects.filter(pk=customer.pk, language="").update(language=language))
    if learnt:
        customer.language = language
        _record(customer, "language_learnt", _actor(customer), language=language)
    return learnt


@transaction.atomic
def set_language(customer: Customer, language: str, *, actor: Actor) -> Customer:
    """The customer picked the language of their portal and mails (the portal's switcher)."""
    chosen = supported_language(language)
    if not chosen or chosen != language.strip().lower():
        raise Invalid("invalid_language", _("Choose one of the languages offered."), field="language")
    if customer.language != chosen:
        old = customer.language
        Customer.objects.filter(pk=customer.pk).update(language=chosen, updated_at=timezone.now())
        customer.language = chosen
        _record(customer, "language_set", actor, language=[old, chosen])
    return customer
