"""Thin task wrappers: processing runs in the worker, in batches when mail piles up."""

from __future__ import annotations

from deskhand.core.tasks import task
from deskhand.ingest.pipeline import pending_ids, process_ids

# Small enough that the listener's own writes never wait long behind a batch on SQLite.
TASK_BATCH = 25


@task()
def process_inbound(*, inbound_id: int) -> str:
    """Process this mail and whatever else has arrived meanwhile (the tasks queued for those find
    them done and return at once)."""
    ids = [inbound_id, *[pk for pk in pending_ids(TASK_BATCH) if pk != inbound_id]][:TASK_BATCH]
    done = process_ids(ids)
    return f"{len(done)} processed"


@task()
def process_pending() -> str:
    """The sweep: mail left `received` (a worker that died, a queue that was lost)."""
    total = 0
    while ids := pending_ids(TASK_BATCH):
        done = process_ids(ids)
        if not done:
            break
        total += len(done)
    return f"{total} processed"
