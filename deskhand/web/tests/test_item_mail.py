"""Mail in an item's conversation, with Django's test client: the email marker, the HTML with its
inline images, attachments, the quoted history behind a toggle, "view original" (raw headers and
the .eml, agents only) and replies the mail server refused."""

from __future__ import annotations

import re
import struct
import zlib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from deskhand.agents.models import Agent
from deskhand.core.actors import SYSTEM, Actor
from deskhand.ingest.pipeline import process_ids
from deskhand.ingest.receive import receive_raw
from deskhand.mail.models import InboundEmail, OutboundMessage, OutboundStatus
from deskhand.mail.queries import raw_bytes
from deskhand.mail.services import create_mailbox
from deskhand.work.inputs import ItemDraft
from deskhand.work.models import Attachment, Item, Message
from deskhand.work.services.items import submit_ticket
from deskhand.work.services.messages import add_message

pytestmark = pytest.mark.django_db



def png(width: int = 1, height: int = 1) -> bytes:
    """A PNG picture of a printer's display (an inline image, as a screenshot pasted into a mail)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    def pixel(x: int, y: int) -> bytes:
        inside = width // 10 <= x < width * 9 // 10 and height // 5 <= y < height * 4 // 5
        warning = inside and height * 2 // 5 <= y < height * 3 // 5 and x < width * 6 // 10
        return b"\xd9\x2d\x20" if warning else b"\xcf\xe8\xd4" if inside else b"\x34\x3a\x40"

    rows = b"".join(b"\x00" + b"".join(pixel(x, y) for x in range(width)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


PNG = png()


def make_raw(*, subject: str = "Printer on floor 2 is offline", sender: str = "Zoë Müller <zoe@acme.example>",
             text: str = "Hello,\n\nthe printer on floor 2 does not print.\n\nZoë", html: str = "",
             inline_png: str = "", picture: bytes = PNG, files: list[tuple[str, bytes, str]] | None = None,
             message_id: str = "", in_reply_to: str = "", headers: dict[str, str] | None = None) -> bytes:
    """A mail as a mail client builds it: text, optional HTML with an inline image, attachments."""
    mail = EmailMessage()
    if sender:
        mail["From"] = sender
    mail["To"] = "support@deskhand.test"
    mail["Subject"] = subject
    mail["Date"] = formatdate()
    mail["Message-ID"] = message_id or make_msgid(domain="acme.example")
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
        mail["References"] = in_reply_to
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(text)
    if html:
        mail.add_alternative(html, subtype="html")
        if inline_png:
            mail.get_payload()[1].add_related(picture, maintype="image", subtype="png", cid=f"<{inline_png}>",
                                              filename="logo.png")
    for name, data, content_type in files or []:
        maintype, _, subtype = content_type.partition("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(mail)


def deliver(raw: bytes) -> InboundEmail:
    """Through the HTTP endpoint's door and the worker's pipeline, as mail arrives."""
    inbound = receive_raw(raw, transport="http")
    process_ids([inbound.pk])
    inbound.refresh_from_db()
    return inbound


HTML = ('<p>Hello,</p><p>the printer on <strong>floor 2</strong> does not print.</p>'
        '<p><img src="cid:logo@acme.example" alt="Acme logo"></p>'
        '<script>alert("x")</script><p onclick="steal()">Zoë</p>')


@pytest.fixture(autouse=True)
def support_address(db: Any) -> None:
    create_mailbox(address="support@deskhand.test", actor=SYSTEM)


def _mail_ticket() -> tuple[Item, Message, InboundEmail]:
    inbound = deliver(make_raw(html=HTML, inline_png="logo@acme.example",
                               files=[("invoice.pdf", b"%PDF-1.4 invoice", "application/pdf")],
                               headers={"X-Mailer": "Acme Mail 7"}))
    assert inbound.status == "processed", inbound.reason
    item = Item.objects.get(pk=inbound.item_id)
    return item, Message.objects.get(pk=inbound.message_id), inbound


def _message_html(page: str, message: Message) -> str:
    match = re.search(rf'<li class="msg [^"]*" id="message-{message.pk}">(.*?)</li>\s*(?:<li class="msg|</ol>)', page,
                      re.DOTALL)
    assert match, f"message {message.pk} is not on the page"
    return match.group(1)


def test_a_mail_shows_its_html_inline_image_attachments_and_original(agent_client: Client) -> None:
    item, message, inbound = _mail_ticket()
    page = agent_client.get(f"/tickets/{item.pk}").content.decode()
    shown = _message_html(page, message)
    assert '<span class="tag msg-channel" title="Came in by email">email</span>' in shown
    assert "<strong>floor 2</strong>" in shown  # the HTML, not the text
    assert "<script" not in shown and "onclick" not in shown and "steal()" not in shown
    logo = Attachment.objects.get(name="logo.png")
    invoice = Attachment.objects.get(name="invoice.pdf")
    assert logo.content_id and f'src="/attachments/{logo.pk}"' in shown and "cid:" not in shown
    assert f'href="/attachments/{invoice.pk}"' in shown and "invoice.pdf" in shown
    assert "logo.png" not in shown  # shown in the mail, not listed again as a file
    assert f'href="/tickets/{item.pk}/messages/{message.pk}/original"' in shown and "View original" in shown
    assert "Show quoted text" not in shown  # nothing was quoted


def test_an_inline_image_the_html_does_not_show_is_listed_and_an_unknown_cid_points_nowhere(
        agent_client: Client) -> None:
    html = '<p>See <img src="cid:missing@acme.example" alt="gone"></p>'
    inbound = deliver(make_raw(html=html, inline_png="other@acme.example"))
    page = agent_client.get(f"/tickets/{inbound.item_id}").content.decode()
    shown = _message_html(page, Message.objects.get(pk=inbound.message_id))
    assert 'src=""' in shown and "cid:" not in shown
    assert "logo.png" in shown  # not in the HTML, so among the files


def test_a_reply_by_mail_hides_the_quoted_history_behind_a_toggle(agent_client: Client) -> None:
    item, first, inbound = _mail_ticket()
    text = ("Thanks, it prints again!\n\nOn Mon, 23 Nov 2026 at 10:00, Support <support@deskhand.test> wrote:\n"
            "> Please switch it off and on again.\n> Kind regards\n")
    reply = deliver(make_raw(subject="Re: Printer on floor 2 is offline", text=text,
                             in_reply_to=inbound.rfc_message_id))
    assert reply.item_id == item.pk
    message = Message.objects.get(pk=reply.message_id)
    assert message.full_body and "switch it off" not in message.body
    page = agent_client.get(f"/tickets/{item.pk}").content.decode()
    shown = _message_html(page, message)
    new_text, _, hidden = shown.partition('<details class="msg-quoted">')
    assert "Thanks, it prints again!" in new_text and "switch it off" not in new_text
    assert "<summary>Show quoted text</summary>" in hidden and "Please switch it off and on again." in hidden


def test_html_with_quotes_shows_the_new_text_first_and_the_whole_mail_behind_the_toggle(
        agent_client: Client) -> None:
    _, _, inbound = _mail_ticket()
    text = "It works now.\n\nOn Mon, Support <support@deskhand.test> wrote:\n> Try again.\n"
    html = "<p>It <em>works</em> now.</p><blockquote><p>Try again.</p></blockquote>"
    reply = deliver(make_raw(subject="Re: Printer", text=text, html=html, in_reply_to=inbound.rfc_message_id))
    page = agent_client.get(f"/tickets/{reply.item_id}").content.decode()
    new_text, _, hidden = _message_html(page, Message.objects.get(pk=reply.message_id)).partition("<details")
    assert "It works now." in new_text and "Try again." not in new_text
    assert "<em>works</em>" in hidden and "<blockquote>" in hidden


def test_view_original_shows_the_raw_headers_and_downloads_the_eml(agent_client: Client) -> None:
    item, message, inbound = _mail_ticket()
    url = f"/tickets/{item.pk}/messages/{message.pk}/original"
    response = agent_client.get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert "X-Mailer: Acme Mail 7" in page and f"Message-ID: {inbound.rfc_message_id}" in page.replace("&lt;", "<").replace("&gt;", ">")
    assert "Subject: Printer on floor 2 is offline" in page and "HTTP endpoint" in page
    assert "does not print" not in page  # headers only; the body is in the .eml
    assert f'href="{url}.eml"' in page and f'href="/tickets/{item.pk}#message-{message.pk}"' in page
    download = agent_client.get(f"{url}.eml")
    assert download.status_code == 200 and download.getvalue() == raw_bytes(inbound.pk)
    assert download["Content-Type"] == "message/rfc822"
    assert download["Content-Disposition"] == f'attachment; filename="mail-{inbound.pk}.eml"'
    assert download["X-Content-Type-Options"] == "nosniff"


def test_original_is_for_agents_and_only_for_mail_of_that_item(agent_client: Client, client: Client,
                                                               agent: Agent) -> None:
    item, message, _ = _mail_ticket()
    url = f"/tickets/{item.pk}/messages/{message.pk}/original"
    assert client.get(url).status_code == 302 and client.get(f"{url}.eml")["Location"].startswith("/login")
    note = add_message(item, kind="note", body="Typed in the app.", actor=Actor.agent(agent))
    other = submit_ticket(ItemDraft(title="Other", requester_email="bob@acme.example"), actor=SYSTEM)
    for path in [f"/tickets/{item.pk}/messages/{note.pk}/original", f"/tickets/{other.pk}/messages/{message.pk}/original",
                 f"/tickets/{item.pk}/messages/999999/original.eml", f"/tasks/{item.pk}/messages/{message.pk}/original",
                 f"/tickets/{item.pk}/messages/99999999999999999999/original"]:
        assert agent_client.get(path).status_code == 404, path
    page = agent_client.get(f"/tickets/{item.pk}").content.decode()
    assert "View original" not in _message_html(page, note)
    assert '<span class="tag msg-channel"' not in _message_html(page, note)


def test_huge_headers_are_cut_on_the_page_but_kept_in_the_eml(agent_client: Client) -> None:
    inbound = deliver(make_raw(headers={f"X-Filler-{n}": "y" * 900 for n in range(260)}))
    assert inbound.status == "processed", inbound.reason
    url = f"/tickets/{inbound.item_id}/messages/{inbound.message_id}/original"
    page = agent_client.get(url).content.decode()
    assert "The headers are longer than this page shows" in page and "X-Filler-0:" in page
    assert b"X-Filler-259:" in agent_client.get(f"{url}.eml").getvalue()


def test_a_reply_the_mail_server_refused_says_not_delivered(agent_client: Client, agent: Agent) -> None:
    item, _, _ = _mail_ticket()
    refused = add_message(item, kind="reply", body="Please try again.", actor=Actor.agent(agent))
    delivered = add_message(item, kind="reply", body="It is fixed.", actor=Actor.agent(agent))
    # The outbox's outcome, as the sender task writes it after the mail server answered.
    OutboundMessage.objects.filter(message=refused).update(
        status=OutboundStatus.FAILED, attempts=1, last_error="550 5.1.1 mailbox unavailable")
    OutboundMessage.objects.filter(message=delivered).update(status=OutboundStatus.SENT)
    page = agent_client.get(f"/tickets/{item.pk}").content.decode()
    assert ("Not delivered to zoe@acme.example: 550 5.1.1 mailbox unavailable"
            in _message_html(page, refused))
    assert "Not delivered" not in _message_html(page, delivered)


def test_an_acknowledgement_that_failed_is_named_as_such(agent_client: Client) -> None:
    item, message, _ = _mail_ticket()
    OutboundMessage.objects.filter(kind="acknowledgement").update(status=OutboundStatus.FAILED,
                                                                  last_error="Connection refused")
    page = agent_client.get(f"/tickets/{item.pk}").content.decode()
    assert "Acknowledgement not delivered to zoe@acme.example: Connection refused" in _message_html(page, message)


def test_item_page_queries_do_not_grow_with_mail(agent_client: Client, agent: Agent) -> None:
    item, _, inbound = _mail_ticket()

    def add(count: int) -> None:
        for number in range(count):
            deliver(make_raw(subject="Re: Printer", text=f"Reply {number}\n\nOn Mon, X wrote:\n> before\n",
                             html=f"<p>Reply {number}</p>", files=[(f"f{number}.txt", b"x", "text/plain")],
                             in_reply_to=inbound.rfc_message_id))
            reply = add_message(item, kind="reply", body=f"Answer {number}", actor=Actor.agent(agent))
            OutboundMessage.objects.filter(message=reply).update(status=OutboundStatus.FAILED, last_error="550")

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert agent_client.get(f"/tickets/{item.pk}").status_code == 200
        return len(captured)

    add(1)
    few = count()
    add(8)
    many = count()
    assert Message.objects.filter(item=item).count() == 19
    # 22 before issue 15's workspace (4), notifications read (1), reply box (4) and reply copies (1).
    assert many == few and many <= 32


def test_a_mail_ticket_shows_its_text_once(agent_client: Client) -> None:
    item, message, _inbound = _mail_ticket()
    assert item.description.strip() == message.body.strip()
    page = agent_client.get(f"/tickets/{item.pk}").content.decode()
    # No card says "the text is below": the conversation shows it once, and the text stays editable.
    assert 'id="description-title"' not in page and "in the conversation below" not in page
    assert page.count(message.body.splitlines()[0]) == page.count("<textarea id=\"edit-description\"") + 1
    assert '<details class="edit-text bare">' in page and 'id="edit-title" name="title" maxlength="300"' in page
    manual = submit_ticket(ItemDraft(title="Call back", description="Phoned about the printer.",
                                     requester_email="zoe@acme.example"), actor=SYSTEM)
    page = agent_client.get(f"/tickets/{manual.pk}").content.decode()
    assert 'id="description-title"' in page and "Phoned about the printer." in page


TRACKED = ('<p>Spring offers!</p><img src="https://tracker.example/open.gif?who=zoe" alt="pixel" width="1">'
           '<img src="//cdn.example/banner.png" alt="Banner">'
           '<p><img src="cid:logo@acme.example" alt="Acme logo"></p>')


def test_remote_images_are_blocked_by_default_and_loaded_for_one_message_on_request(agent_client: Client) -> None:
    inbound = deliver(make_raw(html=TRACKED, inline_png="logo@acme.example"))
    message = Message.objects.get(pk=inbound.message_id)
    page = agent_client.get(f"/tickets/{inbound.item_id}").content.decode()
    shown = _message_html(page, message)
    assert "tracker.example" not in page and "cdn.example" not in page  # nothing for the browser to fetch
    assert 'alt="pixel"' in shown and 'alt="Banner"' in shown
    assert f'src="/attachments/{Attachment.objects.get(name="logo.png").pk}"' in shown  # our own inline image stays
    assert "Remote images are blocked" in shown and "Load remote images" in shown
    url = f"/tickets/{inbound.item_id}/messages/{message.pk}/remote-images"
    assert f'hx-get="{url}"' in shown
    fragment = agent_client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert html.lstrip().startswith(f'<li class="msg msg-customer" id="message-{message.pk}">')
    assert 'src="https://tracker.example/open.gif?who=zoe"' in html and 'src="//cdn.example/banner.png"' in html
    assert "Remote images are blocked" not in html
    # Only for that view: the page blocks them again, and nothing was stored.
    assert "tracker.example" not in agent_client.get(f"/tickets/{inbound.item_id}").content.decode()
    # Without JavaScript the link shows the whole page with that message's images.
    full = agent_client.get(url).content.decode()
    assert "tracker.example" in _message_html(full, message) and "<html" in full


def test_a_mail_without_remote_images_shows_no_notice(agent_client: Client) -> None:
    item, message, _ = _mail_ticket()
    shown = _message_html(agent_client.get(f"/tickets/{item.pk}").content.decode(), message)
    assert "Remote images are blocked" not in shown


def test_remote_images_are_for_agents_and_messages_of_that_item(agent_client: Client, client: Client) -> None:
    inbound = deliver(make_raw(html=TRACKED))
    other = deliver(make_raw(html=TRACKED, subject="Another printer"))
    url = f"/tickets/{inbound.item_id}/messages/{other.message_id}/remote-images"
    assert agent_client.get(url, headers={"HX-Request": "true"}).status_code == 404
    assert client.get(f"/tickets/{inbound.item_id}/messages/{inbound.message_id}/remote-images").status_code == 302
