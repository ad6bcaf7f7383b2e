"""What `serve` makes sure of before it answers: records named by the environment."""

from __future__ import annotations

import logging

from deskhand.agents.services import ensure_admin
from deskhand.automations.samples import ensure_samples
from deskhand.conf import conf
from deskhand.core.actors import SYSTEM
from deskhand.core.crypto import MailboxKeyMissing, check_mailbox_key
from deskhand.core.errors import DomainError
from deskhand.mail.services import ensure_mailboxes
from deskhand.work.services.statuses import ensure_default_workflow

logger = logging.getLogger("deskhand.startup")


def ensure_support_addresses() -> None:
    """DESKHAND_SUPPORT_ADDRESSES as ticket addresses: for `serve`, and for `mail import`, which
    files mail into them (and never makes them followers) even before `serve` first ran."""
    if conf.support_address_list:
        try:
            ensure_mailboxes(conf.support_address_list, actor=SYSTEM)
        except DomainError as exc:
            raise SystemExit(f"DESKHAND_SUPPORT_ADDRESSES: {exc.message}") from None


def ensure_configured_records() -> None:
    try:
        check_mailbox_key()
    except MailboxKeyMissing as exc:
        raise SystemExit(str(exc)) from None
    ensure_default_workflow()
    ensure_samples()
    ensure_support_addresses()
    if conf.admin_email and conf.admin_password:
        try:
            agent = ensure_admin(conf.admin_email, password=conf.admin_password, actor=SYSTEM)
        except DomainError as exc:
            raise SystemExit(f"DESKHAND_ADMIN_EMAIL / DESKHAND_ADMIN_PASSWORD: {exc.message}") from None
        logger.info("Admin agent %s is ready.", agent.email)
    elif conf.admin_email or conf.admin_password:
        logger.warning("Set both DESKHAND_ADMIN_EMAIL and DESKHAND_ADMIN_PASSWORD to create the admin agent.")
