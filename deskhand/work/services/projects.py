"""Portfolios contain projects; projects contain folders and items; a project may belong to a
customer organization."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from deskhand.audit.services import record
from deskhand.automations.events import ItemEvent
from deskhand.config.queries import get_setting
from deskhand.core.actors import Actor
from deskhand.core.errors import Conflict, Invalid
from deskhand.core.inputs import UNSET
from deskhand.customers.models import Organization
from deskhand.work.inputs import ProjectChanges
from deskhand.work.models import Folder, Item, Portfolio, Project
from deskhand.work.services._common import automate_records, clean_name, known_id, resolve_project


def _portfolio(value: int | Portfolio | None) -> Portfolio | None:
    if value is None or isinstance(value, Portfolio):
        return value
    portfolio = Portfolio.objects.filter(pk=known_id(value, field="portfolio", what="Portfolio")).first()
    if portfolio is None:
        raise Invalid("unknown_portfolio", gettext("There is no portfolio %(value)s.") % {"value": value}, field="portfolio")
    return portfolio


def _organization(value: int | Organization | None) -> Organization | None:
    if value is None or isinstance(value, Organization):
        return value
    organization = Organization.objects.filter(pk=known_id(value, field="organization", what="Organization")).first()
    if organization is None:
        raise Invalid("unknown_organization", gettext("There is no organization %(value)s.") % {"value": value}, field="organization")
    return organization


def _save_unique(instance: Portfolio | Project | Folder, what: str) -> None:
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        name = instance.name
        if instance.pk is not None:  # the caller's object keeps what is stored, not the refused name
            instance.refresh_from_db()
        raise Conflict(f"{what}_exists", f"A {what} named “{name}” already exists.", field="name") from None


def _record(instance: Portfolio | Project | Folder, action: str, *, actor: Actor, changes: dict[str, Any]) -> None:
    what = type(instance).__name__.lower()
    record(actor=actor, action=f"{what}.{action}", object_type=what, object_id=instance.pk,
           object_label=instance.name, changes=changes)


@transaction.atomic
def create_portfolio(name: str, *, actor: Actor) -> Portfolio:
    if not get_setting("portfolios_enabled"):
        raise Invalid("portfolios_disabled", gettext("Portfolios are switched off in the settings."), field="name")
    portfolio = Portfolio(name=clean_name(name))
    _save_unique(portfolio, "portfolio")
    _record(portfolio, "created", actor=actor, changes={"name": portfolio.name})
    return portfolio


@transaction.atomic
def _rename(instance: Portfolio | Folder, *, name: str, actor: Actor) -> None:
    old = instance.name
    instance.name = clean_name(name)
    _save_unique(instance, type(instance).__name__.lower())
    _record(instance, "renamed", actor=actor, changes={"name": {"old": old, "new": instance.name}})


def rename_portfolio(portfolio: Portfolio, *, name: str, actor: Actor) -> Portfolio:
    _rename(portfolio, name=name, actor=actor)
    return portfolio


@transaction.atomic
def delete_portfolio(portfolio: Portfolio, *, actor: Actor) -> None:
    """The portfolio goes; its projects stay, outside any portfolio."""
    moved = Project.objects.filter(portfolio=portfolio).update(portfolio=None)
    _record(portfolio, "deleted", actor=actor, changes={"projects_kept": moved})
    portfolio.delete()


@transaction.atomic
def create_project(name: str, *, portfolio: int | Portfolio | None = None,
                   organization: int | Organization | None = None, actor: Actor) -> Project:
    """A project, optionally in a portfolio and optionally belonging to a customer organization."""
    portfolio_record = _portfolio(portfolio)
    if portfolio_record is not None and not get_setting("portfolios_enabled"):
        raise Invalid("portfolios_disabled", gettext("Portfolios are switched off in the settings."), field="portfolio")
    project = Project(name=clean_name(name), portfolio=portfolio_record, organization=_organization(organization))
    _save_unique(project, "project")
    _record(project, "created", actor=actor, changes={
        "name": project.name, "portfolio": portfolio_record.name if portfolio_record else None,
        "organization": project.organization.name if project.organization else None,
    })
    if automate_records([ItemEvent(project.pk, "created", actor=actor, kind="project",
                                   organization_id=project.organization_id)]):
        project.refresh_from_db()
    return project


@transaction.atomic
def update_project(project: Project, *, changes: ProjectChanges, actor: Actor) -> Project:
    before = {"name": project.name, "portfolio": project.portfolio_id, "organization": project.organization_id}
    if changes.name is not UNSET:
        project.name = clean_name(changes.name)
    if changes.portfolio is not UNSET:
        project.portfolio = _portfolio(changes.portfolio)
        if project.portfolio is not None and not get_setting("portfolios_enabled"):
            raise Invalid("portfolios_disabled", gettext("Portfolios are switched off in the settings."), field="portfolio")
    if changes.organization is not UNSET:
        project.organization = _organization(changes.organization)
    _save_unique(project, "project")
    after = {"name": project.name, "portfolio": project.portfolio_id, "organization": project.organization_id}
    changed = {key: {"old": before[key], "new": value} for key, value in after.items() if before[key] != value}
    if changed:
        _record(project, "updated", actor=actor, changes=changed)
        if automate_records([ItemEvent(project.pk, "updated", actor=actor, kind="project",
                                       organization_id=project.organization_id,
                                       changes={key: (value["old"], value["new"]) for key, value in changed.items()})]):
            project.refresh_from_db()
    return project


@transaction.atomic
def delete_project(project: Project, *, actor: Actor) -> None:
    """The project and its folders go; their items stay, outside any project."""
    released = Item.objects.filter(project=project).update(project=None, folder=None)
    _record(project, "deleted", actor=actor, changes={"items_kept": released})
    project.delete()


@transaction.atomic
def create_folder(name: str, *, project: int | Project, actor: Actor) -> Folder:
    project_record = resolve_project(project)
    if project_record is None:
        raise Invalid("project_required", gettext("A folder belongs to a project."), field="project")
    folder = Folder(name=clean_name(name), project=project_record)
    _save_unique(folder, "folder")
    _record(folder, "created", actor=actor, changes={"name": folder.name, "project": project_record.name})
    return folder


def rename_folder(folder: Folder, *, name: str, actor: Actor) -> Folder:
    _rename(folder, name=name, actor=actor)
    return folder


@transaction.atomic
def delete_folder(folder: Folder, *, actor: Actor) -> None:
    """The folder goes; its items stay in the project."""
    released = Item.objects.filter(folder=folder).update(folder=None)
    _record(folder, "deleted", actor=actor, changes={"items_kept": released})
    folder.delete()
