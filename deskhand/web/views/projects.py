"""Projects: the portfolio → project → folder tree with open-item counts, one project's page, and
adding, renaming and deleting portfolios, projects and folders."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from deskhand.audit.queries import history
from deskhand.config.queries import get_setting
from deskhand.core.errors import DomainError, NotFound
from deskhand.core.inputs import UNSET
from deskhand.customers.models import Organization
from deskhand.web.access import actor, agent_required, safe_next
from deskhand.web.forms import add_domain_error, choice_field
from deskhand.web.forms_items import optional_id
from deskhand.web.http import AgentRequest
from deskhand.web.views.customers import resolve_organization_name
from deskhand.web.views.timesheets import ORGANIZATION_PICKER, duration
from deskhand.work import queries
from deskhand.work.inputs import ProjectChanges
from deskhand.work.models import Folder, Portfolio, Project
from deskhand.work.services import projects as services

RECENT_ITEMS = 10


class PortfolioForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Portfolio name"), max_length=200)


class ProjectForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Project name"), max_length=200)
    portfolio = forms.ChoiceField(label=gettext_lazy("Portfolio"), required=False)
    organization = forms.CharField(
        label=gettext_lazy("Customer organization"), required=False, max_length=2000,
        help_text=gettext_lazy("Optional: the customer organization this project is for."),
        widget=forms.TextInput(attrs=ORGANIZATION_PICKER))

    def __init__(self, *args: Any, portfolios: list[Portfolio] | None, **kwargs: Any) -> None:
        """`portfolios` None: portfolios are switched off, and the field is not shown."""
        super().__init__(*args, **kwargs)
        if portfolios is None:
            del self.fields["portfolio"]
        else:
            choices = [("", gettext("No portfolio"))] + [(str(p.pk), p.name) for p in portfolios]
            choice_field(self, "portfolio").choices = choices

    def organization_record(self) -> Organization | None:
        return resolve_organization_name(self.cleaned_data["organization"])

    def portfolio_id(self) -> int | None:
        return optional_id(self.cleaned_data.get("portfolio"), field="portfolio")

    def changes(self) -> ProjectChanges:
        """The portfolio changes only where the form offers it (portfolios switched on)."""
        portfolio = self.portfolio_id() if "portfolio" in self.fields else UNSET
        return ProjectChanges(name=self.cleaned_data["name"], organization=self.organization_record(), portfolio=portfolio)


class FolderForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Folder name"), max_length=200)
    project = forms.ChoiceField(label=gettext_lazy("In project"))

    def __init__(self, *args: Any, projects: list[Project] | None = None, **kwargs: Any) -> None:
        """Without `projects` the folder's project is fixed by the page, and the field is not shown."""
        super().__init__(*args, **kwargs)
        if projects is None:
            del self.fields["project"]
        else:
            choice_field(self, "project").choices = [("", "—")] + [(str(p.pk), p.name) for p in projects]


def _or_404(getter: Any, pk: int) -> Any:
    try:
        return getter(pk)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _portfolios_enabled() -> bool:
    return bool(get_setting("portfolios_enabled"))


def _tree(portfolios_enabled: bool) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The tree of tickets with the open tasks of each project and folder beside the open tickets."""
    tickets, unprojected_tickets = queries.portfolio_tree("ticket", portfolios_enabled=portfolios_enabled)
    tasks, unprojected_tasks = queries.portfolio_tree("task", portfolios_enabled=portfolios_enabled)
    task_counts = {node.project.pk: (node.count, {folder.pk: n for folder, n in node.folders})
                   for branch in tasks for node in branch.projects}
    tree = []
    for branch in tickets:
        projects: list[dict[str, Any]] = []
        for node in branch.projects:
            open_tasks, folder_tasks = task_counts.get(node.project.pk, (0, {}))
            projects.append({"project": node.project, "tickets": node.count, "tasks": open_tasks, "folders": [
                {"folder": folder, "tickets": n, "tasks": folder_tasks.get(folder.pk, 0)}
                for folder, n in node.folders]})
        tree.append({"portfolio": branch.portfolio, "projects": projects,
                     "tickets": sum(p["tickets"] for p in projects), "tasks": sum(p["tasks"] for p in projects)})
    return tree, {"tickets": unprojected_tickets, "tasks": unprojected_tasks}


def _index(request: AgentRequest, *, portfolio_form: PortfolioForm | None = None,
           project_form: ProjectForm | None = None, folder_form: FolderForm | None = None,
           rename: dict[str, Any] | None = None, status: int = 200) -> HttpResponse:
    enabled = _portfolios_enabled()
    tree, unprojected = _tree(enabled)
    portfolios = [branch["portfolio"] for branch in tree if branch["portfolio"] is not None] if enabled else None
    projects = sorted((p["project"] for branch in tree for p in branch["projects"]), key=lambda p: p.name.lower())
    return render(request, "web/projects/index.html", {
        "tree": tree, "unprojected": unprojected, "portfolios_enabled": enabled,
        "project_count": len(projects), "rename": rename or {},
        "portfolio_form": portfolio_form or PortfolioForm(auto_id="portfolio_%s"),
        "project_form": project_form or ProjectForm(portfolios=portfolios, auto_id="project_%s"),
        "folder_form": folder_form or FolderForm(projects=projects, auto_id="folder_%s"),
    }, status=status)


@require_GET
@agent_required
def project_index(request: AgentRequest) -> HttpResponse:
    return _index(request)


@require_POST
@agent_required
def new_portfolio(request: AgentRequest) -> HttpResponse:
    form = PortfolioForm(request.POST, auto_id="portfolio_%s")
    if form.is_valid():
        try:
            portfolio = services.create_portfolio(form.cleaned_data["name"], actor=actor(request))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, gettext("Portfolio %(name)s added.") % {"name": portfolio.name})
            return redirect("web:projects")
    return _index(request, portfolio_form=form, status=422)


@require_POST
@agent_required
def new_project(request: AgentRequest) -> HttpResponse:
    enabled = _portfolios_enabled()
    form = ProjectForm(request.POST, portfolios=list(queries.portfolio_list()) if enabled else None,
                       auto_id="project_%s")
    if form.is_valid():
        try:
            project = services.create_project(form.cleaned_data["name"], portfolio=form.portfolio_id(),
                                              organization=form.organization_record(), actor=actor(request))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, gettext("Project %(name)s added.") % {"name": project.name})
            return redirect("web:project-detail", project_id=project.pk)
    return _index(request, project_form=form, status=422)


@require_POST
@agent_required
def new_folder(request: AgentRequest) -> HttpResponse:
    """A folder from the Projects page, which names its project."""
    form = FolderForm(request.POST, projects=list(queries.project_list()), auto_id="folder_%s")
    if form.is_valid():
        try:
            folder = services.create_folder(form.cleaned_data["name"], project=int(form.cleaned_data["project"]),
                                            actor=actor(request))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, gettext("Folder %(name)s added to %(project)s.") % {"name": folder.name, "project": folder.project.name})
            return redirect("web:projects")
    return _index(request, folder_form=form, status=422)


@require_POST
@agent_required
def rename_portfolio(request: AgentRequest, portfolio_id: int) -> HttpResponse:
    portfolio = _or_404(queries.get_portfolio, portfolio_id)
    name = request.POST.get("name", "")
    try:
        services.rename_portfolio(portfolio, name=name, actor=actor(request))
    except DomainError as exc:
        return _index(request, rename={"kind": "portfolio", "id": portfolio_id, "value": name, "error": exc.message},
                      status=exc.status)
    messages.success(request, gettext("Portfolio renamed to %(name)s.") % {"name": portfolio.name})
    return redirect("web:projects")


@require_POST
@agent_required
def rename_project(request: AgentRequest, project_id: int) -> HttpResponse:
    project = _or_404(queries.get_project, project_id)
    name = request.POST.get("name", "")
    try:
        services.update_project(project, changes=ProjectChanges(name=name), actor=actor(request))
    except DomainError as exc:
        return _index(request, rename={"kind": "project", "id": project_id, "value": name, "error": exc.message},
                      status=exc.status)
    messages.success(request, gettext("Project renamed to %(name)s.") % {"name": project.name})
    return redirect("web:projects")


@require_POST
@agent_required
def rename_folder(request: AgentRequest, folder_id: int) -> HttpResponse:
    """From the Projects page or the project's page (`from=project`): errors show where it was typed."""
    folder = _or_404(queries.get_folder, folder_id)
    name = request.POST.get("name", "")
    try:
        services.rename_folder(folder, name=name, actor=actor(request))
    except DomainError as exc:
        rename = {"kind": "folder", "id": folder_id, "value": name, "error": exc.message}
        if request.POST.get("from") == "project":
            return _detail(request, _or_404(queries.get_project, folder.project_id), rename=rename,
                           status=exc.status)
        return _index(request, rename=rename, status=exc.status)
    messages.success(request, gettext("Folder renamed to %(name)s.") % {"name": folder.name})
    if request.POST.get("from") == "project":
        return redirect("web:project-detail", project_id=folder.project_id)
    return redirect("web:projects")


def _confirm_delete(request: AgentRequest, *, what: str, name: str, consequence: str, action: str,
                    cancel: str, next_url: str = "") -> HttpResponse:
    return render(request, "web/projects/delete.html", {
        "what": what, "name": name, "consequence": consequence, "action": action, "cancel": cancel,
        "next": next_url})


@require_http_methods(["GET", "POST"])
@agent_required
def delete_portfolio(request: AgentRequest, portfolio_id: int) -> HttpResponse:
    portfolio = _or_404(queries.get_portfolio, portfolio_id)
    if request.method == "POST":
        services.delete_portfolio(portfolio, actor=actor(request))
        messages.success(request, gettext("Portfolio %(name)s deleted; its projects are kept.") % {"name": portfolio.name})
        return redirect("web:projects")
    count = queries.project_list(portfolio=str(portfolio.pk)).count()
    return _confirm_delete(
        request, what="portfolio", name=portfolio.name, action=reverse("web:portfolio-delete", args=[portfolio.pk]),
        cancel=reverse("web:projects"), consequence=ngettext("Its %(count)s project will stay, in no portfolio.",
                                                     "Its %(count)s projects will stay, in no portfolio.", count) % {"count": count})


@require_http_methods(["GET", "POST"])
@agent_required
def delete_folder(request: AgentRequest, folder_id: int) -> HttpResponse:
    folder = _or_404(queries.get_folder, folder_id)
    back = safe_next(request, reverse("web:projects"))
    if request.method == "POST":
        services.delete_folder(folder, actor=actor(request))
        messages.success(request, gettext("Folder %(name)s deleted; its items stay in %(project)s.") % {"name": folder.name, "project": folder.project.name})
        return redirect(back)
    return _confirm_delete(
        request, what="folder", name=folder.name, action=reverse("web:folder-delete", args=[folder.pk]),
        cancel=back, next_url=back, consequence=gettext("Its tickets and tasks will stay in the project %(project)s, "
                                                     "outside any folder.") % {"project": folder.project.name})


@require_http_methods(["GET", "POST"])
@agent_required
def delete_project(request: AgentRequest, project_id: int) -> HttpResponse:
    project = _or_404(queries.get_project, project_id)
    if request.method == "POST":
        services.delete_project(project, actor=actor(request))
        messages.success(request, gettext("Project %(name)s deleted; its tickets and tasks are kept.") % {"name": project.name})
        return redirect("web:projects")
    folders = queries.folder_list(project=str(project.pk)).count()
    return _confirm_delete(
        request, what="project", name=project.name, action=reverse("web:project-delete", args=[project.pk]),
        cancel=reverse("web:project-detail", args=[project.pk]),
        consequence=ngettext("Its %(count)s folder will be deleted too. Its tickets, tasks "
                             "and their time entries stay, outside any project.",
                             "Its %(count)s folders will be deleted too. Its tickets, tasks "
                             "and their time entries stay, outside any project.", folders) % {"count": folders})


def _detail(request: AgentRequest, project: Project, *, form: ProjectForm | None = None,
            folder_form: FolderForm | None = None, rename: dict[str, Any] | None = None,
            status: int = 200) -> HttpResponse:
    enabled = _portfolios_enabled()
    portfolios = list(queries.portfolio_list()) if enabled else None
    scope = queries.ItemFilters(project=str(project.pk))
    minutes, billable = queries.total_minutes(queries.time_entry_list(queries.TimeFilters(project=str(project.pk))))
    lists = []
    for kind, title in (("ticket", "Tickets"), ("task", "Tasks")):
        items = queries.item_list(kind, scope, sort="-updated_at")
        lists.append({"kind": kind, "title": title, "items": list(items[:RECENT_ITEMS]), "count": items.count()})
    return render(request, "web/projects/project.html", {
        "project": project, "portfolios_enabled": enabled, "lists": lists,
        "folders": list(queries.folder_list(project=str(project.pk))),
        "time_total": duration(minutes), "time_billable": duration(billable), "time_minutes": minutes,
        "form": form or ProjectForm(portfolios=portfolios, auto_id="project_%s", initial={
            "name": project.name, "portfolio": str(project.portfolio_id or ""),
            "organization": project.organization.name if project.organization else ""}),
        "folder_form": folder_form or FolderForm(auto_id="folder_%s"), "rename": rename or {},
        "events": history("project", project.pk, limit=50),
    }, status=status)


@require_http_methods(["GET", "POST"])
@agent_required
def project_detail(request: AgentRequest, project_id: int) -> HttpResponse:
    """The project's properties (editable), folders, recent tickets and tasks, and time spent."""
    project = _or_404(queries.get_project, project_id)
    if request.method == "GET":
        return _detail(request, project)
    portfolios = list(queries.portfolio_list()) if _portfolios_enabled() else None
    form = ProjectForm(request.POST, portfolios=portfolios, auto_id="project_%s")
    if form.is_valid():
        try:
            services.update_project(project, changes=form.changes(), actor=actor(request))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, gettext("Project saved."))
            return redirect("web:project-detail", project_id=project.pk)
    return _detail(request, _or_404(queries.get_project, project_id), form=form, status=422)


@require_POST
@agent_required
def new_project_folder(request: AgentRequest, project_id: int) -> HttpResponse:
    """A folder from the project's page."""
    project = _or_404(queries.get_project, project_id)
    form = FolderForm(request.POST, auto_id="folder_%s")
    if form.is_valid():
        try:
            folder: Folder = services.create_folder(form.cleaned_data["name"], project=project, actor=actor(request))
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, gettext("Folder %(name)s added.") % {"name": folder.name})
            return redirect("web:project-detail", project_id=project.pk)
    return _detail(request, project, folder_form=form, status=422)
