"""Import (upload → map columns → dry-run preview → import) and export of customers."""

from __future__ import annotations

import io
import secrets

from django.contrib import messages
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskhand.core.errors import DomainError, Invalid
from deskhand.fields.queries import custom_field_list
from deskhand.imports.customers import (
    BUILT_IN_COLUMNS,
    MAX_FILE_BYTES,
    export_customers,
    export_organizations,
    guess_column,
    import_customers,
    read_header,
    remap,
)
from deskhand.imports.jobs import SYNC_ROW_LIMIT, get_job_for_agent, import_previewed, row_count, start_import
from deskhand.web.access import actor, agent_required
from deskhand.web.http import AgentRequest

# Uploaded files wait for their preview and import in the `default` storage: the bucket, with
# DESKHAND_STORAGE_URL, so that the next step may reach any web host.
UPLOADS = "imports"
FIELD_LABELS = {"email": gettext_lazy("Email"), "name": gettext_lazy("Name"), "phone": gettext_lazy("Phone"),
                "organization": gettext_lazy("Organization (name)"), "customer_type": gettext_lazy("Customer type"),
                "language": gettext_lazy("Language"), "notes": gettext_lazy("Notes")}


def _upload_name(token: str) -> str:
    if not token or not token.isalnum() or len(token) > 64:
        raise Invalid("upload_expired", gettext("The uploaded file is gone; upload it again."), field="file")
    return f"{UPLOADS}/{token}.csv"


def _save_upload(data: bytes) -> str:
    """Keep an uploaded file for the steps that follow; its token."""
    token = secrets.token_hex(16)
    saved = storages["default"].save(_upload_name(token), ContentFile(data))
    assert saved == _upload_name(token), saved  # a random name is never taken
    return token


def _read_upload(token: str) -> bytes:
    try:
        with storages["default"].open(_upload_name(token), "rb") as handle:
            return bytes(handle.read())
    except FileNotFoundError:
        raise Invalid("upload_expired", gettext("The uploaded file is gone; upload it again."), field="file") from None


def _delete_upload(token: str) -> None:
    storages["default"].delete(_upload_name(token))


def _targets() -> list[tuple[str, str]]:
    fields = [(key, str(FIELD_LABELS[key])) for key in BUILT_IN_COLUMNS]
    fields += [(f.key, gettext("%(label)s (custom)") % {"label": f.label})
               for f in custom_field_list(applies_to="customer")]
    return fields


@require_http_methods(["GET", "POST"])
@agent_required
def import_customers_page(request: AgentRequest) -> HttpResponse:
    step = request.POST.get("step", "")
    context: dict[str, object] = {"targets": _targets()}
    try:
        if step == "upload":
            upload = request.FILES.get("file")
            if upload is None:
                raise Invalid("file_required", gettext("Choose a CSV file."), field="file")
            if upload.size and upload.size > MAX_FILE_BYTES:
                raise Invalid("file_too_large", gettext("A CSV file has at most 50 MB."), field="file")
            data = upload.read()
            header = read_header(data)
            token = _save_upload(data)
            keys = [key for key, _ in _targets()]
            context.update(step="map", token=token, filename=upload.name,
                           columns=[(index, column, guess_column(column, keys)) for index, column in enumerate(header)])
        elif step in {"preview", "import"}:
            token = request.POST.get("token", "")
            data = _read_upload(token)
            header = read_header(data)
            mapping = [request.POST.get(f"column-{index}", "") for index in range(len(header))]
            valid = {key for key, _ in _targets()}
            mapping = [target if target in valid else "" for target in mapping]
            text = remap(data, mapping)
            dry_run = step == "preview"
            update_existing = request.POST.get("update_existing", "yes") != "no"
            if row_count(text) > SYNC_ROW_LIMIT:
                # A long file is previewed and imported by the worker, never in the request.
                job = start_import(text, agent=request.user, filename=request.POST.get("filename", "") or f"{token}.csv",
                                   dry_run=dry_run, update_existing=update_existing)
                _delete_upload(token)
                return redirect("web:customer-import-job", job_id=job.pk)
            report = import_customers(text, dry_run=dry_run, update_existing=update_existing, actor=actor(request))
            if not dry_run:
                _delete_upload(token)
                summary = report.as_dict()
                messages.success(request, gettext("Imported: %(created)s created, %(matched)s matched, %(errors)s errors.")
                                 % summary)
            context.update(step="preview" if dry_run else "done", token=token, report=report.as_dict(),
                           update_existing=update_existing, filename=request.POST.get("filename", ""),
                           mapping=mapping, columns=[(index, column, mapping[index])
                                                     for index, column in enumerate(header)])
    except DomainError as exc:
        context.update(step="", error=exc.message)
        return render(request, "web/customers/import.html", context, status=422)
    return render(request, "web/customers/import.html", context)


@require_GET
@agent_required
def import_job(request: AgentRequest, job_id: int) -> HttpResponse:
    """A long import's progress; the page polls itself (htmx) until the job is done."""
    try:
        job = get_job_for_agent(request.user, job_id)
    except DomainError as exc:
        raise Http404(exc.message) from None
    template = "web/customers/import_job.html#progress" if request.htmx else "web/customers/import_job.html"
    return render(request, template, {"job": job})


@require_POST
@agent_required
def import_job_run(request: AgentRequest, job_id: int) -> HttpResponse:
    """Import the file a finished preview job planned."""
    try:
        preview = get_job_for_agent(request.user, job_id)
    except DomainError as exc:
        raise Http404(exc.message) from None
    try:
        job = import_previewed(preview, agent=request.user,
                               update_existing=request.POST.get("update_existing", "yes") != "no")
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(f"/customers/import/{preview.pk}")
    return redirect("web:customer-import-job", job_id=job.pk)


def _csv_response(write: object, filename: str) -> HttpResponse:
    buffer = io.StringIO()
    write(buffer)  # type: ignore[operator]
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@agent_required
def export_customers_csv(request: AgentRequest) -> HttpResponse:
    return _csv_response(export_customers, "customers.csv")


@require_GET
@agent_required
def export_organizations_csv(request: AgentRequest) -> HttpResponse:
    return _csv_response(export_organizations, "organizations.csv")
