"""`deskhand mail import`: a folder, a Maildir or an mbox through the same pipeline, quietly."""

from __future__ import annotations

import mailbox
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from deskhand.ingest.importer import import_mail
from deskhand.mail.models import InboundEmail, OutboundMessage
from deskhand.mail.tests.mails import make_mail
from deskhand.work.models import Item, Message

pytestmark = pytest.mark.django_db(transaction=True)


def _thread() -> list[bytes]:
    return [
        make_mail(subject="VPN drops", message_id="<v1@acme-corp.example>"),
        make_mail(sender="Bo <bo@other.example>", subject="Invoice question", message_id="<i1@other.example>"),
        make_mail(subject="Re: VPN drops", in_reply_to="<v1@acme-corp.example>", message_id="<v2@acme-corp.example>",
                  body="Still dropping.\n\nOn Mon, Zoë wrote:\n> VPN drops"),
        make_mail(subject="Out of office", headers={"Auto-Submitted": "auto-replied"}),
    ]


def _check() -> None:
    assert sorted(Item.objects.values_list("title", flat=True)) == ["Invoice question", "VPN drops"]
    vpn = Item.objects.get(title="VPN drops")
    assert [m.body for m in Message.objects.filter(item=vpn).order_by("id")][-1] == "Still dropping."
    assert sorted(InboundEmail.objects.values_list("status", flat=True)) == ["ignored"] + ["processed"] * 3
    assert set(InboundEmail.objects.values_list("transport", flat=True)) == {"import"}
    assert not OutboundMessage.objects.exists()  # old mail gets no acknowledgement


@pytest.mark.parametrize("jobs", [0, 1])
def test_a_folder_of_eml_files(tmp_path: Path, jobs: int) -> None:
    for n, raw in enumerate(_thread()):
        (tmp_path / f"{n:03}.eml").write_bytes(raw)
    report = import_mail(tmp_path, jobs=jobs, batch=2)
    assert report.total == 4 and report.statuses == {"processed": 3, "ignored": 1}
    _check()


def test_a_maildir(tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for raw in _thread():
        box.add(raw)
    import_mail(tmp_path / "Maildir", jobs=0)
    assert InboundEmail.objects.count() == 4
    assert Item.objects.count() == 2


def test_an_mbox_through_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    box = mailbox.mbox(tmp_path / "archive.mbox", create=True)
    for raw in _thread():
        box.add(raw)
    box.flush()
    call_command("mail", "import", str(tmp_path / "archive.mbox"), "--jobs", "0")
    out = capsys.readouterr().out
    assert "Imported 4 mails" in out and "1 ignored, 3 processed" in out
    _check()


def test_a_missing_path_is_a_clear_error() -> None:
    deskhand = str(Path(sys.executable).with_name("deskhand"))
    result = subprocess.run([deskhand, "mail", "import", "/nonexistent/mail"], capture_output=True, text=True)
    assert result.returncode != 0
    assert "does not exist" in result.stderr


def test_the_command_files_mail_into_the_ticket_addresses_of_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from deskhand.conf import conf

    monkeypatch.setattr(conf, "support_addresses", "support@deskhand.test")
    (tmp_path / "1.eml").write_bytes(make_mail(cc="support@deskhand.test, ana@acme-corp.example"))
    call_command("mail", "import", str(tmp_path), "--jobs", "0")
    inbound = InboundEmail.objects.get()
    assert inbound.status == "processed" and inbound.mailbox is not None
    assert inbound.mailbox.address == "support@deskhand.test"
    followers = set(Item.objects.get().followers.values_list("customer__email", flat=True))
    assert followers == {"zoe@acme-corp.example", "ana@acme-corp.example"}  # never the ticket address
