"""Long CSV imports: a job row, a task that runs it in the worker, progress written as it goes."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from deskhand.agents.models import Agent
from deskhand.core.actors import Actor
from deskhand.core.commit import after_commit
from deskhand.core.errors import Conflict, DomainError, NotFound
from deskhand.core.tasks import task
from deskhand.imports.customers import import_customers
from deskhand.imports.models import ImportJob

logger = logging.getLogger(__name__)
# Files up to this many rows are previewed and imported while the agent waits; longer ones run
# in the worker, and the agent watches the job's progress.
SYNC_ROW_LIMIT = 500


def row_count(text: str) -> int:
    """About how many rows a CSV text has (its lines after the header)."""
    return max(0, text.count("\n") - 1)


def start_import(text: str, *, agent: Agent, filename: str, dry_run: bool = False,
                 update_existing: bool = True) -> ImportJob:
    """Queue `text` (a CSV in the import's columns) for the worker: a preview or the import."""
    job = ImportJob.objects.create(agent_id=agent.pk, filename=filename[:255], data=text, dry_run=dry_run,
                                   update_existing=update_existing, rows_total=row_count(text))
    after_commit(run_import_job.enqueue, job_id=job.pk)
    return job


def get_job_for_agent(agent: Agent, job_id: int) -> ImportJob:
    job = ImportJob.objects.filter(pk=job_id).defer("data").first()
    if job is None or (job.agent_id != agent.pk and not agent.is_admin):
        raise NotFound("import_not_found", gettext("No import with id %(job_id)s.") % {"job_id": job_id})
    return job


@task()
def run_import_job(*, job_id: int) -> None:
    """Run a queued import once; a job that is already running or finished is left alone."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING)
    if not claimed:
        return
    job = ImportJob.objects.get(pk=job_id)
    agent = Agent.objects.get(pk=job.agent_id)

    def progress(done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job_id).update(rows_done=done)

    try:
        report = import_customers(job.data, dry_run=job.dry_run, update_existing=job.update_existing,
                                  actor=Actor.agent(agent), progress=progress)
    except DomainError as exc:
        ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.FAILED, error=exc.message,
                                                   finished_at=timezone.now())
        return
    except Exception:
        logger.exception("Import %s failed", job_id)
        ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.FAILED, finished_at=timezone.now(),
                                                   error="The import stopped on an unexpected error; it is logged.")
        raise
    ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.DONE, report=report.as_dict(),
                                               rows_done=len(report.rows), finished_at=timezone.now(),
                                               data=job.data if job.dry_run else "")


@transaction.atomic
def import_previewed(preview: ImportJob, *, agent: Agent, update_existing: bool) -> ImportJob:
    """Queue the import of a finished preview's file; the preview lets go of its copy."""
    if not preview.dry_run or preview.status != ImportJob.Status.DONE:
        raise Conflict("not_a_finished_preview", gettext("Only a finished preview can be imported."), field="job")
    text = ImportJob.objects.select_for_update().filter(pk=preview.pk).values_list("data", flat=True).get()
    if not text:
        raise Conflict("preview_already_imported", gettext("This preview was imported already."), field="job")
    job = start_import(text, agent=agent, filename=preview.filename, update_existing=update_existing)
    ImportJob.objects.filter(pk=preview.pk).update(data="")
    return job
