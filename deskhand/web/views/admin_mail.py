"""Administration → Email: ticket addresses and their IMAP accounts, the catch-all domains, the
never-add-as-follower list, the inbound mail log with retry, and the outbox's failed mail. Also the
"original" of a stored mail (raw headers and the .eml), shown to admins here and to agents from an
item's conversation."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode, urlsplit

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskhand.conf import conf, split_addr
from deskhand.config.queries import get_setting
from deskhand.config.services import update_settings
from deskhand.core.emailaddr import display_domain
from deskhand.core.errors import DomainError, NotFound
from deskhand.core.numbers import int_or_default
from deskhand.ingest.imap import test_connection
from deskhand.ingest.receive import retry
from deskhand.mail import queries, services
from deskhand.mail.forwarding import PROVIDER_NAMES, safe_link
from deskhand.mail.inputs import MailboxChanges
from deskhand.mail.models import InboundEmail, InboundStatus, Mailbox
from deskhand.mail.queries import raw_copy, raw_head
from deskhand.web.access import actor, admin_required, safe_next
from deskhand.web.forms import add_domain_error
from deskhand.web.forms_mail import IMAP_ALIASES, STATUS_CHOICES, CatchAllForm, MailboxForm, NeverFollowForm
from deskhand.web.http import AgentRequest

logger = logging.getLogger(__name__)

PAGE = reverse_lazy("web:admin-email")
LOG_PAGE_SIZE = 50
OUTBOX_SHOWN = 20
# The header block of a mail shown on the page; a mail with more (a hostile one) is cut, with a note.
MAX_HEADER_CHARS = 200_000
RAW_HEAD_BYTES = 4 * MAX_HEADER_CHARS
RETRYABLE = (InboundStatus.FAILED, InboundStatus.IGNORED)
CATCH_ALL = "smtp_catch_all_domains"


# -- helpers ---------------------------------------------------------------------------------------


def _number(value: Any) -> int:
    return int_or_default(value, 1, maximum=999_999)


def _or_404(getter: Any, object_id: int) -> Any:
    try:
        return getter(object_id)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _log(data: QueryDict) -> dict[str, Any]:
    """One page of the inbound mail log, filtered by status as the address says."""
    status = data.get("status", "")
    page = _number(data.get("page"))
    error = ""
    try:
        found = queries.inbound_list(status=status or None)
    except DomainError as exc:
        error, status = exc.message, ""
        found = queries.inbound_list()
    rows = list(found[(page - 1) * LOG_PAGE_SIZE: page * LOG_PAGE_SIZE + 1])
    query = {"status": status} if status else {}

    def url(number: int) -> str:
        params = urlencode({**query, **({"page": number} if number > 1 else {})})
        return f"{PAGE}?{params}" if params else str(PAGE)

    return {"rows": rows[:LOG_PAGE_SIZE], "status": status, "error": error, "page": page,
            "choices": STATUS_CHOICES, "here": url(page), "retryable": RETRYABLE,
            "prev_url": url(page - 1) if page > 1 else "",
            "next_url": url(page + 1) if len(rows) > LOG_PAGE_SIZE else ""}


class ForwardingForm(forms.Form):
    address = forms.CharField(label=gettext_lazy("Address you forward from"), max_length=254, required=False,
                              help_text=gettext_lazy("The address your customers write to, such as support@yourcompany.com."),
                              widget=forms.EmailInput(attrs={"autocomplete": "off",
                                                             "placeholder": "support@yourcompany.com"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "forwarding_%s")
        super().__init__(*args, **kwargs)


def _listener() -> dict[str, Any]:
    """Where Deskhand's SMTP listener takes mail: the host mail servers reach (the public host
    name when it listens on every interface) and its port."""
    host, port = split_addr(conf.smtp_addr)
    public = urlsplit(conf.public_origin).hostname or ""
    if host in ("0.0.0.0", "::", "") and public:  # noqa: S104 - reading the setting, not binding
        host = public
    return {"host": host, "port": port, "local": host in ("127.0.0.1", "::1", "localhost")}


def _forwarding(form: ForwardingForm | None) -> dict[str, Any]:
    status = queries.forwarding_status()
    mailboxes = list(queries.mailbox_list()[:1])
    ticket_address = mailboxes[0].address if mailboxes else (conf.support_address_list or [""])[0]
    confirmations = [{"row": row, "provider": PROVIDER_NAMES.get(row.provider, row.provider),
                      "link": row.link if row.link and safe_link(row.link, row.provider) else ""}
                     for row in status.confirmations]
    return {"status": status, "ticket_address": ticket_address, "listener": _listener(),
            "confirmations": confirmations,
            "form": form or ForwardingForm(initial={"address": status.address})}


def _render(request: AgentRequest, *, mailbox_form: MailboxForm | None = None, editing: Mailbox | None = None,
            never_form: NeverFollowForm | None = None, never_error: str = "", deleting: Mailbox | None = None,
            catch_all_form: CatchAllForm | None = None, catch_all_error: str = "",
            forwarding_form: ForwardingForm | None = None, status: int = 200) -> HttpResponse:
    log = _log(request.GET)
    catch_all: list[str] = get_setting(CATCH_ALL)
    return render(request, "web/admin/email.html", {
        "forwarding": _forwarding(forwarding_form),
        "mailboxes": list(queries.mailbox_list()),
        "mailbox_form": mailbox_form or MailboxForm(mailbox=editing),
        "editing": editing, "deleting": deleting,
        "catch_all": [(domain, display_domain(domain)) for domain in catch_all],
        "catch_all_form": catch_all_form or CatchAllForm(), "catch_all_error": catch_all_error,
        "never_follow": list(queries.never_follow_list()),
        "never_form": never_form or NeverFollowForm(), "never_error": never_error,
        "log": log, "outbox": queries.failed_outbound(OUTBOX_SHOWN),
    }, status=422 if log["error"] and status == 200 else status)


# -- the page --------------------------------------------------------------------------------------


@require_GET
@admin_required
def email_settings(request: AgentRequest) -> HttpResponse:
    """The page; htmx (the log's status filter) gets the log alone."""
    if request.htmx and not request.htmx.history_restore_request:
        log = _log(request.GET)
        return render(request, "web/admin/email.html#inbound-results", {"log": log}, status=422 if log["error"] else 200)
    return _render(request)


# -- ticket addresses ------------------------------------------------------------------------------


def _save_mailbox(request: AgentRequest, mailbox: Mailbox | None) -> HttpResponse:
    form = MailboxForm(request.POST, mailbox=mailbox)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if mailbox is None:
                saved = services.create_mailbox(address=data["address"], name=data["name"], imap=form.imap(),
                                                actor=actor(request))
            else:
                saved = services.update_mailbox(mailbox, changes=MailboxChanges(
                    address=data["address"], name=data["name"], imap=form.imap()), actor=actor(request))
        except DomainError as exc:
            add_domain_error(form, exc, aliases=IMAP_ALIASES)
            if mailbox is not None:
                mailbox.refresh_from_db()  # the service may have set fields before it refused
            return _render(request, mailbox_form=form, editing=mailbox, status=exc.status)
        messages.success(request, (gettext("Ticket address %(address)s added.") if mailbox is None
                                  else gettext("Ticket address %(address)s saved.")) % {"address": saved.address})
        return redirect(f"{PAGE}#mailboxes")
    return _render(request, mailbox_form=form, editing=mailbox, status=422)


@require_POST
@admin_required
def add_mailbox(request: AgentRequest) -> HttpResponse:
    return _save_mailbox(request, None)


@require_http_methods(["GET", "POST"])
@admin_required
def edit_mailbox(request: AgentRequest, mailbox_id: int) -> HttpResponse:
    mailbox = _or_404(queries.get_mailbox, mailbox_id)
    if request.method == "POST":
        return _save_mailbox(request, mailbox)
    return _render(request, editing=mailbox)


@require_http_methods(["GET", "POST"])
@admin_required
def delete_mailbox(request: AgentRequest, mailbox_id: int) -> HttpResponse:
    """GET asks to confirm; POST deletes."""
    mailbox = _or_404(queries.get_mailbox, mailbox_id)
    if request.method == "POST":
        try:
            services.delete_mailbox(mailbox, actor=actor(request))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, gettext("Ticket address %(address)s deleted; the mail it received is kept.") % {"address": mailbox.address})
        return redirect(f"{PAGE}#mailboxes")
    return _render(request, deleting=mailbox)


@require_POST
@admin_required
def test_mailbox(request: AgentRequest, mailbox_id: int) -> HttpResponse:
    """Log in to the IMAP account and open its folder. Always answers 200: the outcome is the result."""
    mailbox = _or_404(queries.get_mailbox, mailbox_id)
    if not mailbox.is_imap:
        ok, message = False, gettext("This ticket address has no IMAP account to test.")
    else:
        try:
            ok, message = test_connection(mailbox)
        except Exception as exc:  # noqa: BLE001 - a test that breaks says why instead of a 500 page
            logger.exception("IMAP test of mailbox %s failed", mailbox.pk)
            ok, message = False, (gettext("The test could not run: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"})[:500]
    if request.htmx:
        return render(request, "web/admin/email.html#test-result",
                      {"mailbox": mailbox, "result": {"ok": ok, "message": message}})
    (messages.success if ok else messages.error)(request, f"{mailbox.address}: {message}")
    return redirect(f"{PAGE}#mailboxes")


# -- catch-all domains -----------------------------------------------------------------------------
# One setting, changed through the settings service as `PATCH /api/v1/settings` changes it: what a
# domain is, the lower case, duplicates and the limits are its rules, not these views'.


@require_POST
@admin_required
def add_catch_all(request: AgentRequest) -> HttpResponse:
    form = CatchAllForm(request.POST)
    if form.is_valid():
        before: list[str] = get_setting(CATCH_ALL)
        try:
            after: list[str] = update_settings({CATCH_ALL: [*before, form.cleaned_data["domain"]]},
                                               actor=actor(request))[CATCH_ALL]
        except DomainError as exc:
            add_domain_error(form, exc, aliases={CATCH_ALL: "domain"})
            return _render(request, catch_all_form=form, status=exc.status)
        added = ", ".join(display_domain(domain) for domain in after if domain not in before)
        messages.success(request, gettext("Mail to any address at %(domain)s is now taken.") % {"domain": added} if added
                         else gettext("That domain is already a catch-all domain."))
        return redirect(f"{PAGE}#catch-all")
    return _render(request, catch_all_form=form, status=422)


@require_POST
@admin_required
def remove_catch_all(request: AgentRequest, domain: str) -> HttpResponse:
    before: list[str] = get_setting(CATCH_ALL)
    if domain not in before:
        raise Http404(gettext("That domain is not a catch-all domain."))
    try:
        update_settings({CATCH_ALL: [entry for entry in before if entry != domain]}, actor=actor(request))
    except DomainError as exc:
        return _render(request, catch_all_error=exc.message, status=exc.status)
    messages.success(request, gettext("%(domain)s is no longer a catch-all domain.") % {"domain": display_domain(domain)})
    return redirect(f"{PAGE}#catch-all")


# -- forwarding set-up -----------------------------------------------------------------------------


@require_POST
@admin_required
def save_forwarding(request: AgentRequest) -> HttpResponse:
    """Declare the address the help desk forwards from (it goes on the never-follow list)."""
    form = ForwardingForm(request.POST)
    if form.is_valid():
        try:
            saved = services.declare_forwarding_address(address=form.cleaned_data["address"], actor=actor(request))
        except DomainError as exc:
            add_domain_error(form, exc, aliases={"forwarding_address": "address"})
            return _render(request, forwarding_form=form, status=exc.status)
        messages.success(request, gettext("Mail forwarded from %(address)s is expected; %(address)s is never added as a "
                                          "follower.") % {"address": saved}
                         if saved else gettext("No forwarding address is declared any more."))
        return redirect(f"{PAGE}#forwarding")
    return _render(request, forwarding_form=form, status=422)


@require_POST
@admin_required
def send_forwarding_test(request: AgentRequest) -> HttpResponse:
    """Send a mail to the forwarding address: when forwarding works it comes back in."""
    try:
        test = services.send_forwarding_test(actor=actor(request))
    except DomainError as exc:
        form = ForwardingForm({"address": get_setting("forwarding_address")})
        form.is_valid()
        form.add_error("address", exc.message)
        return _render(request, forwarding_form=form, status=exc.status)
    messages.success(request, gettext("A test mail to %(to)s is on its way; this page shows when it comes back.") % {"to": test.to})
    return redirect(f"{PAGE}#forwarding")


# -- never add as follower -------------------------------------------------------------------------


@require_POST
@admin_required
def add_never_follow(request: AgentRequest) -> HttpResponse:
    form = NeverFollowForm(request.POST)
    if form.is_valid():
        try:
            entry = services.add_never_follow(address=form.cleaned_data["address"], actor=actor(request))
        except DomainError as exc:
            add_domain_error(form, exc)
            return _render(request, never_form=form, status=exc.status)
        messages.success(request, gettext("%(address)s will never be added as a follower.") % {"address": entry.address})
        return redirect(f"{PAGE}#never-follow")
    return _render(request, never_form=form, status=422)


@require_POST
@admin_required
def remove_never_follow(request: AgentRequest, entry_id: int) -> HttpResponse:
    entry = _or_404(queries.get_never_follow, entry_id)
    try:
        services.remove_never_follow(entry, actor=actor(request))
    except DomainError as exc:
        return _render(request, never_error=exc.message, status=exc.status)
    messages.success(request, gettext("%(address)s removed from the list.") % {"address": entry.address})
    return redirect(f"{PAGE}#never-follow")


# -- inbound mail ----------------------------------------------------------------------------------


@require_POST
@admin_required
def retry_inbound(request: AgentRequest, inbound_id: int) -> HttpResponse:
    """Process a failed or ignored mail again; back to the log as it was filtered."""
    inbound = _or_404(queries.get_inbound, inbound_id)
    back = safe_next(request, f"{PAGE}#inbound-log")
    try:
        retry(inbound, actor=actor(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, gettext("Mail %(id)s (%(subject)s) is processed again.") % {
            "id": inbound.pk, "subject": inbound.subject or gettext("no subject")})
    return redirect(back)


def raw_headers(raw: bytes) -> tuple[str, bool]:
    """The header block of a raw mail as text (everything before the first blank line), and
    whether it was cut to fit the page."""
    ends = [index for index in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if index >= 0]
    head = raw[:min(ends)] if ends else raw
    text = head.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\x00", "\ufffd")
    return text[:MAX_HEADER_CHARS], len(text) > MAX_HEADER_CHARS


def original_context(inbound: InboundEmail, *, eml_url: str) -> dict[str, Any]:
    # The header block of a 100 MB mail is in its first bytes: the rest is never read here.
    headers, cut = raw_headers(raw_head(inbound.pk, RAW_HEAD_BYTES))
    return {"inbound": inbound, "headers": headers, "cut": cut, "eml_url": eml_url}


def eml_response(inbound: InboundEmail) -> FileResponse:
    """The mail exactly as it arrived, as a download (never shown inline), sent from a copy in a
    temporary file so that a large mail is never in memory whole."""
    response = FileResponse(raw_copy(inbound.pk), content_type="message/rfc822")
    response["Content-Disposition"] = f'attachment; filename="mail-{inbound.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, max-age=0"
    return response


@require_GET
@admin_required
def inbound_original(request: AgentRequest, inbound_id: int) -> HttpResponse:
    inbound = _or_404(queries.get_inbound, inbound_id)
    context = original_context(inbound, eml_url=f"{PAGE}/inbound/{inbound.pk}/original.eml")
    return render(request, "web/items/original.html", {**context, "back": f"{PAGE}#inbound-log"})


@require_GET
@admin_required
def inbound_eml(request: AgentRequest, inbound_id: int) -> FileResponse:
    return eml_response(_or_404(queries.get_inbound, inbound_id))
