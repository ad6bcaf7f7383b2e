from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from deskhand.core.crypto import EncryptedTextField


class OutboundStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    KEPT = "kept", "Kept in the outbox (no EMAIL_URL)"
    FAILED = "failed", "Failed"


class OutboundMessage(models.Model):
    """The outbox: a mail to send, written in the transaction of the change that caused it and
    delivered by a task after commit, so a rolled-back change never sends mail."""

    kind = models.CharField(max_length=32)
    item = models.ForeignKey("work.Item", null=True, blank=True, on_delete=models.SET_NULL, related_name="outbound")
    message = models.ForeignKey(
        "work.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="outbound"
    )
    to = models.JSONField(default=list)
    # The first recipient, lower-cased: what the per-sender cap on automatic mail counts by.
    recipient_key = models.CharField(max_length=254, blank=True)
    auto_submitted = models.BooleanField(default=False)
    subject = models.CharField(max_length=998)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    rfc_message_id = models.CharField(max_length=255, unique=True)
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=OutboundStatus.choices, default=OutboundStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # Index: the sender claims queued rows oldest first.
            models.Index(fields=["status", "id"], name="outbound_status_idx"),
            # Index: the cap on automatic replies counts recent ones per recipient.
            models.Index(fields=["recipient_key", "created_at"], name="outbound_recipient_idx",
                         condition=models.Q(auto_submitted=True)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {', '.join(self.to)}: {self.subject}"


class ImapSecurity(models.TextChoices):
    SSL = "ssl", "SSL/TLS"
    STARTTLS = "starttls", "STARTTLS"
    NONE = "none", "None (loopback or trusted network only)"


class Mailbox(models.Model):
    """A ticket address. With `imap_host` set it is also an IMAP account Deskhand polls."""

    address = models.CharField(max_length=254)
    name = models.CharField(max_length=200, blank=True)
    imap_host = models.CharField(max_length=253, blank=True)
    imap_port = models.PositiveIntegerField(null=True, blank=True)
    imap_security = models.CharField(max_length=8, choices=ImapSecurity.choices, default=ImapSecurity.SSL)
    imap_username = models.CharField(max_length=254, blank=True)
    # Write-only in the API and the app: shown nowhere, needed in clear to log in. Encrypted at
    # rest with the data directory's mailbox key (the service keeps it to 500 characters).
    imap_password = EncryptedTextField(blank=True)
    imap_folder = models.CharField(max_length=200, default="INBOX")
    poll_seconds = models.PositiveIntegerField(default=60)
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_poll_ok = models.BooleanField(null=True)
    last_poll_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(Lower("address"), name="mailbox_address_unique")]
        ordering = [Lower("address")]

    def __str__(self) -> str:
        return self.address

    @property
    def is_imap(self) -> bool:
        return bool(self.imap_host)


class NeverFollow(models.Model):
    """An address that is never added as a follower (our ticket addresses and any an admin adds):
    what keeps two help desks, or a help desk and a mailing list, from mailing each other forever."""

    address = models.CharField(max_length=254)
    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(Lower("address"), name="never_follow_address_unique")]
        ordering = [Lower("address")]

    def __str__(self) -> str:
        return self.address


class InboundStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Ignored"
    FAILED = "failed", "Failed"


class Transport(models.TextChoices):
    SMTP = "smtp", "SMTP listener"
    IMAP = "imap", "IMAP"
    HTTP = "http", "HTTP endpoint"
    IMPORT = "import", "Import"


class InboundEmail(models.Model):
    """One mail as it arrived, raw bytes first: stored before anything else happens, so a mail
    that cannot be processed is kept with the reason and can be processed again. The bytes are
    in `InboundRaw`."""

    size = models.PositiveIntegerField(default=0)
    transport = models.CharField(max_length=8, choices=Transport.choices)
    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound")
    envelope_from = models.CharField(max_length=998, blank=True)
    envelope_to = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=InboundStatus.choices, default=InboundStatus.RECEIVED)
    reason = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    rfc_message_id = models.CharField(max_length=255, blank=True)
    from_address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=500, blank=True)
    item = models.ForeignKey("work.Item", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    message = models.ForeignKey("work.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Mail the SMTP listener journaled first (deskhand/ingest/journal.py): its file and position,
    # so that moving a file into the database twice adds nothing twice.
    journal_key = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["journal_key"], condition=~models.Q(journal_key=""),
                                    name="inbound_journal_key_unique"),
        ]
        indexes = [
            models.Index(fields=["status", "id"], name="inbound_status_idx"),
            # Index: threading and duplicate checks look mail up by Message-ID.
            models.Index(fields=["rfc_message_id"], name="inbound_message_id_idx"),
            models.Index(fields=["message"], name="inbound_message_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.status} {self.rfc_message_id or self.pk}: {self.subject}"


class InboundRaw(models.Model):
    """The raw bytes of an inbound mail, in a table of their own: SQLite rewrites a whole row
    when any of its columns changes, and setting a mail's status must not copy its 100 MB."""

    inbound = models.OneToOneField(InboundEmail, primary_key=True, on_delete=models.CASCADE, related_name="+")
    data = models.BinaryField()

    def __str__(self) -> str:
        return f"raw of inbound {self.pk}"


class EarlyReply(models.Model):
    """A ticket that a reply opened because the mail it answers had not arrived yet (parallel
    senders, delayed mail): `awaits` is one of the Message-IDs the reply names. When a mail with
    that Message-ID arrives, it is filed into this ticket instead of opening a second one."""

    awaits = models.CharField(max_length=255)
    item = models.ForeignKey("work.Item", on_delete=models.CASCADE, related_name="+")
    inbound = models.ForeignKey(InboundEmail, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # Index: each batch of mail looks up its own Message-IDs here.
            models.Index(fields=["awaits"], name="early_reply_awaits_idx"),
        ]

    def __str__(self) -> str:
        return f"item {self.item_id} awaits {self.awaits}"


class ForwardingConfirmation(models.Model):
    """A confirmation mail Gmail or Outlook / Microsoft 365 sent to a ticket address when someone
    set up forwarding to it: kept for the admin (Administration → Email), never filed as a ticket."""

    inbound = models.OneToOneField(InboundEmail, on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=16)
    requested_by = models.CharField(max_length=254, blank=True)
    # Only an https link to the provider's own hosts is kept (mail.forwarding.safe_link).
    link = models.CharField(max_length=2000, blank=True)
    code = models.CharField(max_length=40, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.provider} forwarding confirmation for {self.requested_by or 'an address'}"


class ForwardedArrival(models.Model):
    """The first mail that came in through the address the help desk forwards from: the proof
    that forwarding works, shown in Administration → Email. One row per address."""

    address = models.CharField(max_length=254, unique=True)  # lower-cased: the ingest looks it up per batch
    inbound = models.ForeignKey(InboundEmail, null=True, on_delete=models.SET_NULL, related_name="+")
    arrived_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"first mail through {self.address}"


class ForwardingTest(models.Model):
    """A test mail sent to the forwarding address: when forwarding works it comes back in, and the
    inbound log has a mail with its Message-ID."""

    outbound = models.ForeignKey(OutboundMessage, null=True, on_delete=models.SET_NULL, related_name="+")
    to = models.CharField(max_length=254)
    rfc_message_id = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"forwarding test to {self.to}"
