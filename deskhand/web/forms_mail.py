"""Forms of Administration → Email: they collect text; `deskhand.mail.services` (and for the catch-all
domains `deskhand.config.services`) decides what is valid."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext, gettext_lazy

from deskhand.core.inputs import UNSET, Maybe
from deskhand.mail.inputs import ImapSettings
from deskhand.mail.models import ImapSecurity, InboundStatus, Mailbox
from deskhand.web.forms import WholeNumberField

# A service names IMAP fields "imap.<name>"; these are the form fields that show its errors.
IMAP_ALIASES = {"imap.host": "imap_host", "imap.port": "imap_port", "imap.security": "imap_security",
                "imap.username": "imap_username", "imap.password": "imap_password", "imap.folder": "imap_folder",
                "imap.poll_seconds": "poll_seconds", "imap": "imap_host"}
STATUS_CHOICES = [("", gettext_lazy("All")), *InboundStatus.choices]


class MailboxForm(forms.Form):
    """A ticket address, and the IMAP account it is read from when it has one."""

    address = forms.CharField(label=gettext_lazy("Ticket address"), max_length=2000,
                              widget=forms.EmailInput(attrs={"autocomplete": "off"}),
                              help_text=gettext_lazy("Mail to this address becomes tickets and replies."))
    name = forms.CharField(label=gettext_lazy("Display name"), required=False, max_length=2000,
                           help_text=gettext_lazy("Shown to customers as the sender of replies."))
    imap_host = forms.CharField(label=gettext_lazy("IMAP server"), required=False, max_length=2000,
                                widget=forms.TextInput(attrs={"placeholder": "imap.example.com", "autocomplete": "off"}),
                                help_text=gettext_lazy("Empty: nothing is polled."))
    imap_port = WholeNumberField(label=gettext_lazy("IMAP port"), required=False,
                                   widget=forms.TextInput(attrs={"inputmode": "numeric"}),
                                   help_text=gettext_lazy("Empty: 993 for SSL/TLS, 143 otherwise."))
    imap_security = forms.ChoiceField(label=gettext_lazy("Security"), choices=ImapSecurity.choices, initial=ImapSecurity.SSL)
    imap_username = forms.CharField(label=gettext_lazy("IMAP user name"), required=False, max_length=2000,
                                    widget=forms.TextInput(attrs={"autocomplete": "off"}))
    imap_password = forms.CharField(label=gettext_lazy("IMAP password"), required=False, max_length=2000, strip=False,
                                    widget=forms.PasswordInput(render_value=False,
                                                               attrs={"autocomplete": "new-password"}))
    imap_folder = forms.CharField(label=gettext_lazy("IMAP folder"), required=False, max_length=2000, initial="INBOX")
    poll_seconds = WholeNumberField(label=gettext_lazy("Poll every (seconds)"), required=False, initial=60,
                                      widget=forms.TextInput(attrs={"inputmode": "numeric"}))

    def __init__(self, *args: Any, mailbox: Mailbox | None = None, **kwargs: Any) -> None:
        if mailbox is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "address": mailbox.address, "name": mailbox.name, "imap_host": mailbox.imap_host,
                "imap_port": mailbox.imap_port, "imap_security": mailbox.imap_security,
                "imap_username": mailbox.imap_username, "imap_folder": mailbox.imap_folder,
                "poll_seconds": mailbox.poll_seconds,
            }
        kwargs.setdefault("auto_id", "mailbox_%s")
        super().__init__(*args, **kwargs)
        self.mailbox = mailbox
        if mailbox is not None and mailbox.imap_password:
            self.fields["imap_password"].help_text = gettext("Leave empty to keep the current password.")

    def imap(self) -> ImapSettings | None:
        """The IMAP part for the service. No server turns polling off, unless other IMAP details were
        typed in: then the service says the server is missing rather than dropping them quietly."""
        data = self.cleaned_data
        shown = self.initial if self.mailbox is not None else {}
        typed = any(data.get(name) and data.get(name) != shown.get(name)
                    for name in ("imap_username", "imap_password", "imap_port"))
        if not data.get("imap_host") and not typed:
            return None
        password: Maybe[str] = UNSET  # kept
        if data["imap_password"]:
            password = data["imap_password"]
        elif self.mailbox is None or not self.mailbox.is_imap:
            password = ""  # a new account needs one: the service says so at the field
        return ImapSettings(
            host=data["imap_host"], port=data["imap_port"], security=data["imap_security"],
            username=data["imap_username"], folder=data["imap_folder"] or "INBOX", password=password,
            poll_seconds=UNSET if data["poll_seconds"] is None else data["poll_seconds"])


class NeverFollowForm(forms.Form):
    address = forms.CharField(label=gettext_lazy("Address never to add as follower"), max_length=2000,
                              widget=forms.EmailInput(attrs={"autocomplete": "off",
                                                             "placeholder": "list@example.com"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "never_%s")
        super().__init__(*args, **kwargs)


class CatchAllForm(forms.Form):
    """A domain for the catch-all list. Not required here: the settings service says what an empty,
    malformed or overlong domain is, for the API and this form alike."""

    domain = forms.CharField(label=gettext_lazy("Catch-all domain"), required=False, max_length=2000,
                             widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "example.com",
                                                           "spellcheck": "false", "autocapitalize": "none"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "catch_all_%s")
        super().__init__(*args, **kwargs)
