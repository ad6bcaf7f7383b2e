"""Portfolios, projects and folders; timesheets with totals and CSV export; the workflow statuses."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from deskhand.api.auth import actor_of
from deskhand.api.lookups import id_filter
from deskhand.api.pagination import ListParams, paginate
from deskhand.api.schemas import (
    FolderIn,
    FolderListOut,
    FolderOut,
    NameIn,
    NamePatch,
    PortfolioListOut,
    PortfolioOut,
    ProjectIn,
    ProjectListOut,
    ProjectOut,
    ProjectPatch,
    StatusIn,
    StatusListOut,
    StatusOut,
    StatusPatch,
    TimeEntryIn,
    TimeEntryListOut,
    TimeEntryOut,
    TimeEntryPatch,
    TimeTotalsOut,
)
from deskhand.core.csvsafe import csv_lines
from deskhand.core.errors import Invalid, NotFound
from deskhand.work import queries
from deskhand.work.models import Folder, Item, Kind, Portfolio, Project, TimeEntry
from deskhand.work.models import Status as StatusRow
from deskhand.work.models import Status as WorkStatus
from deskhand.work.services import projects as services
from deskhand.work.services import statuses as status_services
from deskhand.work.services import timesheets as time_services

router = Router()


# -- portfolios -----------------------------------------------------------------------------------


@router.get("/portfolios", response=PortfolioListOut, tags=["projects"])
def list_portfolios(request: HttpRequest, params: Query[ListParams]) -> dict[str, Any]:
    # portfolio_list annotates a Count, and Django drops Meta.ordering from aggregate queries.
    portfolios = queries.portfolio_list(search=params.search).order_by("name", "id")
    return paginate(portfolios, params)


@router.post("/portfolios", response={201: PortfolioOut}, tags=["projects"])
def create_portfolio(request: HttpRequest, payload: NameIn) -> Status[Portfolio]:
    portfolio = services.create_portfolio(payload.name, actor=actor_of(request))
    return Status(201, portfolio)


@router.get("/portfolios/{id:portfolio_id}", response=PortfolioOut, tags=["projects"])
def get_portfolio(request: HttpRequest, portfolio_id: int) -> Portfolio:
    return queries.get_portfolio(portfolio_id)


@router.patch("/portfolios/{id:portfolio_id}", response=PortfolioOut, tags=["projects"])
def update_portfolio(request: HttpRequest, portfolio_id: int, payload: NamePatch) -> Portfolio:
    portfolio = queries.get_portfolio(portfolio_id)
    if "name" in payload.model_fields_set:
        services.rename_portfolio(portfolio, name=payload.name or "", actor=actor_of(request))
    return queries.get_portfolio(portfolio_id)


@router.delete("/portfolios/{id:portfolio_id}", response={204: None}, tags=["projects"])
def delete_portfolio(request: HttpRequest, portfolio_id: int) -> Status[None]:
    services.delete_portfolio(queries.get_portfolio(portfolio_id), actor=actor_of(request))
    return Status(204, None)


# -- projects -------------------------------------------------------------------------------------


class ProjectFilters(ListParams):
    portfolio: str = Field("", description="A portfolio id or none.")
    organization: str = Field("", description="An organization id or none.")


@router.get("/projects", response=ProjectListOut, tags=["projects"])
def list_projects(request: HttpRequest, filters: Query[ProjectFilters]) -> dict[str, Any]:
    projects = queries.project_list(
        search=filters.search, portfolio=id_filter(filters.portfolio.strip().lower(), field="portfolio"),
        organization=id_filter(filters.organization.strip().lower(), field="organization"))
    return paginate(projects, filters)


@router.post("/projects", response={201: ProjectOut}, tags=["projects"])
def create_project(request: HttpRequest, payload: ProjectIn) -> Status[Project]:
    project = services.create_project(payload.name, portfolio=payload.portfolio, organization=payload.organization,
                                      actor=actor_of(request))
    return Status(201, queries.get_project(project.pk))


@router.get("/projects/{id:project_id}", response=ProjectOut, tags=["projects"])
def get_project(request: HttpRequest, project_id: int) -> Project:
    return queries.get_project(project_id)


@router.patch("/projects/{id:project_id}", response=ProjectOut, tags=["projects"])
def update_project(request: HttpRequest, project_id: int, payload: ProjectPatch) -> Project:
    project = queries.get_project(project_id)
    services.update_project(project, changes=payload.to_changes(), actor=actor_of(request))
    return queries.get_project(project_id)


@router.delete("/projects/{id:project_id}", response={204: None}, tags=["projects"])
def delete_project(request: HttpRequest, project_id: int) -> Status[None]:
    services.delete_project(queries.get_project(project_id), actor=actor_of(request))
    return Status(204, None)


# -- folders --------------------------------------------------------------------------------------


class FolderFilters(ListParams):
    project: str = Field("", description="A project id.")


@router.get("/folders", response=FolderListOut, tags=["projects"])
def list_folders(request: HttpRequest, filters: Query[FolderFilters]) -> dict[str, Any]:
    folders = queries.folder_list(search=filters.search, project=id_filter(filters.project.strip(), field="project"))
    return paginate(folders, filters)


@router.post("/folders", response={201: FolderOut}, tags=["projects"])
def create_folder(request: HttpRequest, payload: FolderIn) -> Status[Folder]:
    folder = services.create_folder(payload.name, project=payload.project, actor=actor_of(request))
    return Status(201, queries.get_folder(folder.pk))


@router.get("/folders/{id:folder_id}", response=FolderOut, tags=["projects"])
def get_folder(request: HttpRequest, folder_id: int) -> Folder:
    return queries.get_folder(folder_id)


@router.patch("/folders/{id:folder_id}", response=FolderOut, tags=["projects"])
def update_folder(request: HttpRequest, folder_id: int, payload: NamePatch) -> Folder:
    folder = queries.get_folder(folder_id)
    if "name" in payload.model_fields_set:
        services.rename_folder(folder, name=payload.name or "", actor=actor_of(request))
    return queries.get_folder(folder_id)


@router.delete("/folders/{id:folder_id}", response={204: None}, tags=["projects"])
def delete_folder(request: HttpRequest, folder_id: int) -> Status[None]:
    services.delete_folder(queries.get_folder(folder_id), actor=actor_of(request))
    return Status(204, None)


# -- timesheets -----------------------------------------------------------------------------------


class TimeParams(ListParams):
    agent: str = Field("", description="An agent id (comma-separated for several).")
    item: str = Field("", description="An item id.")
    project: str = Field("", description="A project id or none.")
    organization: str = Field("", description="An organization id or none.")
    date_from: str = Field("", description="YYYY-MM-DD, inclusive.")
    date_to: str = Field("", description="YYYY-MM-DD, inclusive.")
    billable: str = Field("", description="true or false (also yes or no).")


class TotalsParams(TimeParams):
    by: str = Field("item", description="item, project, organization or agent.")


BILLABLE = {"true": "yes", "yes": "yes", "1": "yes", "false": "no", "no": "no", "0": "no"}


def _time_entries(params: TimeParams) -> Any:
    values = {name: str(getattr(params, name)).strip().lower()
              for name in ("agent", "item", "project", "organization", "date_from", "date_to", "billable")}
    for name in ("agent", "item", "project", "organization"):
        id_filter(values[name], field=name)
    if values["billable"]:
        if values["billable"] not in BILLABLE:
            raise Invalid("invalid_billable", "billable is true or false.", field="billable")
        values["billable"] = BILLABLE[values["billable"]]
    return queries.time_entry_list(queries.TimeFilters.from_mapping(values))


def _item_or_invalid(item_id: int) -> Item:
    try:
        return queries.get_item(item_id)
    except NotFound as exc:
        raise Invalid("unknown_item", exc.message, field="item") from None


@router.get("/timesheets", response=TimeEntryListOut, tags=["timesheets"])
def list_time_entries(request: HttpRequest, params: Query[TimeParams]) -> dict[str, Any]:
    return paginate(_time_entries(params), params)


@router.post("/timesheets", response={201: TimeEntryOut}, tags=["timesheets"])
def log_time(request: HttpRequest, payload: TimeEntryIn) -> Status[TimeEntry]:
    entry = time_services.log_time(
        _item_or_invalid(payload.item), minutes=payload.minutes, date=payload.date, note=payload.note,
        billable=payload.billable, agent=payload.agent, actor=actor_of(request),
    )
    return Status(201, queries.get_time_entry(entry.pk))


@router.get("/timesheets/totals", response=TimeTotalsOut, tags=["timesheets"])
def time_totals(request: HttpRequest, params: Query[TotalsParams]) -> dict[str, Any]:
    entries = _time_entries(params)
    totals = queries.time_totals(entries, by=params.by)
    minutes, billable = queries.total_minutes(entries)
    return {"by": params.by, "items": [vars(total) for total in totals], "count": len(totals),
            "minutes": minutes, "billable_minutes": billable}


@router.get("/timesheets/export", tags=["timesheets"],
            openapi_extra={"responses": {200: {"description": "CSV with a header row.",
                                               "content": {"text/csv": {}}}}})
def export_time_entries(request: HttpRequest, params: Query[TimeParams]) -> StreamingHttpResponse:
    entries = _time_entries(params)
    response = StreamingHttpResponse(csv_lines(queries.time_entry_rows(entries)),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="timesheets.csv"'
    return response


@router.get("/timesheets/{id:entry_id}", response=TimeEntryOut, tags=["timesheets"])
def get_time_entry(request: HttpRequest, entry_id: int) -> TimeEntry:
    return queries.get_time_entry(entry_id)


@router.patch("/timesheets/{id:entry_id}", response=TimeEntryOut, tags=["timesheets"])
def update_time_entry(request: HttpRequest, entry_id: int, payload: TimeEntryPatch) -> TimeEntry:
    entry: TimeEntry = queries.get_time_entry(entry_id)
    time_services.update_time_entry(entry, changes=payload.to_changes(), actor=actor_of(request))
    return queries.get_time_entry(entry_id)


@router.delete("/timesheets/{id:entry_id}", response={204: None}, tags=["timesheets"])
def delete_time_entry(request: HttpRequest, entry_id: int) -> Status[None]:
    time_services.delete_time_entry(queries.get_time_entry(entry_id), actor=actor_of(request))
    return Status(204, None)


# -- statuses -------------------------------------------------------------------------------------


class StatusFilters(Schema):
    kind: str = Field("", description="ticket or task; both by default.")


def _status(status_id: int) -> WorkStatus:
    status = queries.status_list().filter(pk=status_id).first()
    if status is None:
        raise NotFound("status_not_found", f"No status with id {status_id}.")
    return status


@router.get("/statuses", response=StatusListOut, tags=["statuses"])
def list_statuses(request: HttpRequest, filters: Query[StatusFilters]) -> dict[str, Any]:
    kind = filters.kind.strip().lower()
    if kind and kind not in Kind.values:
        raise Invalid("invalid_kind", "kind is ticket or task.", field="kind")
    statuses = list(queries.status_list(kind or None))
    return {"items": statuses, "count": len(statuses)}


@router.post("/statuses", response={201: StatusOut}, tags=["statuses"])
def create_status(request: HttpRequest, payload: StatusIn) -> Status[StatusRow]:
    status = status_services.create_status(kind=payload.kind, key=payload.key, label=payload.label,
                                           category=payload.category, actor=actor_of(request))
    return Status(201, status)


@router.patch("/statuses/{id:status_id}", response=StatusOut, tags=["statuses"])
def update_status(request: HttpRequest, status_id: int, payload: StatusPatch) -> StatusRow:
    status = status_services.update_status(_status(status_id), changes=payload.to_changes(), actor=actor_of(request))
    return status


@router.delete("/statuses/{id:status_id}", response={204: None}, tags=["statuses"])
def delete_status(request: HttpRequest, status_id: int) -> Status[None]:
    status_services.delete_status(_status(status_id), actor=actor_of(request))
    return Status(204, None)
