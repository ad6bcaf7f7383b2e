"""After a load run: is every acknowledged write in the database exactly once, is anything left
half-done, and did the sink receive each outbound mail exactly once? Run with the environment of
the Deskhand under test; prints JSON.

    .venv/bin/python bench/load/verify.py RECORDS SINK_COUNTS ELAPSED_SECONDS
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter


def main() -> None:
    records_path, sink_path, elapsed = sys.argv[1], sys.argv[2], float(sys.argv[3])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "deskhand.settings")
    import django

    django.setup()
    from deskhand.mail.models import InboundEmail, OutboundMessage
    from deskhand.system.models import Lease
    from deskhand.system.scheduler import TICK_SECONDS
    from deskhand.work.models import Item, Message

    records = [json.loads(line) for line in open(records_path) if line.strip()]  # noqa: SIM115
    by_kind: dict[str, list[dict[str, object]]] = {}
    for entry in records:
        by_kind.setdefault(str(entry["kind"]), []).append(entry)

    titles = Counter()
    for title in Item.objects.filter(title__regex=r"^(Mail|Portal|API) request [0-9a-f]{32}$").values_list(
            "title", flat=True).iterator():
        titles[title.rsplit(" ", 1)[1]] += 1
    notes = Counter()
    for body in Message.objects.filter(body__contains="Checked the queue ").values_list("body", flat=True).iterator():
        notes[body.rsplit(" ", 1)[1].strip()] += 1
    api_notes = set(Message.objects.filter(body__startswith="API note ").values_list("id", flat=True))

    def tally(kind: str, found: Counter[str]) -> dict[str, int]:
        markers = [str(entry["marker"]) for entry in by_kind.get(kind, [])]
        return {"acknowledged": len(markers), "missing": sum(1 for m in markers if found[m] == 0),
                "duplicated": sum(1 for m in markers if found[m] > 1)}

    writes = {
        "mail": tally("mail", titles),
        "api_ticket": tally("api_ticket", titles),
        "portal_request": tally("portal_request", titles),
        "web_note": tally("note", notes),
        "api_note": {"acknowledged": len(by_kind.get("api_note", [])),
                     "missing": sum(1 for e in by_kind.get("api_note", []) if e["id"] not in api_notes),
                     "duplicated": 0},
    }
    # A mail whose 250 was lost on the way (a listener killed between storing and answering) may
    # be sent again by the sender and stored twice: the pipeline must still make one ticket of it.
    inbound = dict(Counter(InboundEmail.objects.values_list("status", flat=True)))
    outbound = dict(Counter(OutboundMessage.objects.values_list("status", flat=True)))
    sent_ids = set(OutboundMessage.objects.filter(status="sent").values_list("rfc_message_id", flat=True))
    sink: dict[str, int] = json.load(open(sink_path))  # noqa: SIM115
    half = {
        "tickets_from_mail_or_portal_without_a_message": Item.objects.filter(
            title__regex=r"^(Mail|Portal) request ").filter(messages__isnull=True).count(),
        "inbound_left_received": inbound.get("received", 0),
        "outbound_left_queued": outbound.get("queued", 0),
    }
    lease = Lease.objects.filter(name="scheduler").values("rounds", "acquired").first() or {"rounds": 0, "acquired": 0}
    report = {
        "writes": writes,
        "lost": sum(w["missing"] for w in writes.values()),
        "duplicated": sum(w["duplicated"] for w in writes.values()),
        "inbound_by_status": inbound,
        "outbound_by_status": outbound,
        "sink": {"mails": sum(sink.values()), "distinct": len(sink),
                 "delivered_twice": sum(1 for count in sink.values() if count > 1),
                 "sent_but_not_received": len(sent_ids - set(sink))},
        "half_written": half,
        "scheduler": {**lease, "expected_rounds_at_most": int(elapsed / TICK_SECONDS) + 2},
    }
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
