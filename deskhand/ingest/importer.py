"""`deskhand mail import PATH`: a folder of .eml files, a Maildir or an mbox through the same
pipeline as live mail (for migrations, and to measure).

Each batch is stored first (one commit for its raw mails), then processed in one transaction
with a savepoint per mail. Parsing is pure, so it runs in a separate process one batch ahead
of the database work: on two cores the parse and the writes overlap.
"""

from __future__ import annotations

import mailbox
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from deskhand.core.bulk import insert_rows
from deskhand.core.errors import Invalid
from deskhand.customers.queries import lookup_keys
from deskhand.ingest.pipeline import named_addresses, process_batch, read_ahead
from deskhand.ingest.receive import MAX_RAW_BYTES
from deskhand.mail.models import InboundEmail, InboundRaw, Transport
from deskhand.mail.parsing import ParsedMail

BATCH = 200


@dataclass
class ImportReport:
    total: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


def iter_raw(path: Path, skipped: list[str]) -> Iterator[bytes]:
    """Raw mails from a Maildir, a folder of files (sorted by name), an mbox or one .eml file."""
    if path.is_dir():
        if _is_maildir(path):
            box = mailbox.Maildir(path, create=False)
            for key in sorted(box.keys()):
                yield box.get_bytes(key)
            return
        for entry in sorted(path.iterdir()):
            if entry.is_file() and not entry.name.startswith("."):
                if entry.stat().st_size > MAX_RAW_BYTES:
                    skipped.append(f"{entry.name}: larger than {MAX_RAW_BYTES // (1024 * 1024)} MB")
                    continue
                yield entry.read_bytes()
        return
    if not path.is_file():
        raise Invalid("not_found", f"{path} is neither a folder nor a file.", field="path")
    with path.open("rb") as handle:
        start = handle.read(5)
    if start == b"From ":
        box_file = mailbox.mbox(path, create=False)
        for key in box_file.iterkeys():
            yield box_file.get_bytes(key)
        return
    yield path.read_bytes()


def _batches(raws: Iterator[bytes], size: int) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    for raw in raws:
        if raw:
            batch.append(raw)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class Parsed:
    """A batch as the parser process hands it to the writer: each mail parsed (None: the pipeline
    parses it again and records why it fails), and what the customer lookups will need."""

    mails: list[ParsedMail | None]
    keys: set[str]
    domains: set[str]


def _parse_batch(raws: list[bytes]) -> Parsed:
    mails = [read_ahead(raw) for raw in raws]
    keys, domains = lookup_keys(named_addresses(mails))
    return Parsed(mails, keys, domains)


def _store(raws: list[bytes]) -> list[InboundEmail]:
    with transaction.atomic():
        rows = InboundEmail.objects.bulk_create([InboundEmail(size=len(raw), transport=Transport.IMPORT) for raw in raws])
        insert_rows(InboundRaw, ("inbound", "data"), [(row.pk, raw) for row, raw in zip(rows, raws, strict=True)])
        return rows


def _process(rows: list[InboundEmail], parsed: Parsed, report: ImportReport) -> None:
    with transaction.atomic():
        for done in process_batch(rows, parsed.mails, lookups=(parsed.keys, parsed.domains)):
            report.statuses[done.status] += 1
            report.total += 1


def import_mail(path: Path, *, jobs: int = 1, batch: int = BATCH,
                progress: Callable[[ImportReport], None] | None = None) -> ImportReport:
    """Store and process every mail under `path`. `jobs` parser processes run beside this one
    (0: parse here)."""
    report = ImportReport()
    started = time.perf_counter()
    batches = _batches(iter_raw(path, report.skipped), batch)
    if jobs <= 0:
        for raws in batches:
            _process(_store(raws), _parse_batch(raws), report)
            if progress:
                progress(report)
    else:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            pending: list[tuple[list[bytes], Future[Parsed]]] = []
            for raws in batches:
                pending.append((raws, pool.submit(_parse_batch, raws)))
                if len(pending) > jobs:
                    head, future = pending.pop(0)
                    _process(_store(head), future.result(), report)
                    if progress:
                        progress(report)
            for raws, future in pending:
                _process(_store(raws), future.result(), report)
                if progress:
                    progress(report)
    report.seconds = time.perf_counter() - started
    return report
