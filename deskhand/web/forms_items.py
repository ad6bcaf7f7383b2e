"""Forms and choice lists of the Tickets and Tasks pages. Like the other forms of the agents' app,
they collect text; the work services decide what is valid and name the field at fault."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy

from deskhand.agents.models import Agent, Team
from deskhand.agents.queries import agent_list, team_list
from deskhand.core.errors import Invalid
from deskhand.core.numbers import parse_id
from deskhand.fields.formfields import custom_form_fields
from deskhand.work.inputs import AssigneeRef
from deskhand.work.models import Folder, Item, Priority, Project, Status
from deskhand.work.queries import folder_list, project_list, status_list

NONE = "none"


@dataclass
class Choices:
    """What the selects of one page offer, loaded once per request (a handful of queries)."""

    statuses: list[Status]
    agents: list[Agent]
    teams: list[Team]
    projects: list[Project]
    folders: list[Folder]

    @classmethod
    def load(cls, kind: str, *, places: bool = True) -> Choices:
        """`places=False` leaves out the projects and folders: the item page loads its project menu
        on demand (200 projects and 425 folders cost more than the rest of the page)."""
        return cls(
            statuses=list(status_list(kind)),
            agents=list(agent_list().filter(is_active=True).prefetch_related(None).order_by("name", "email")),
            teams=list(team_list().prefetch_related(None)),
            # Names and ids are what the menus show: hundreds of rows, no joined records.
            projects=list(project_list().select_related(None).only("id", "name", "portfolio_id", "organization_id"))
            if places else [],
            folders=list(folder_list().select_related(None).only("id", "name", "project_id")) if places else [],
        )

    def projects_with_folders(self) -> list[tuple[Project, list[Folder]]]:
        """Each project with its folders, grouped once (a template loop over both is projects × folders)."""
        by_project: dict[int, list[Folder]] = {}
        for folder in self.folders:
            by_project.setdefault(folder.project_id, []).append(folder)
        return [(project, by_project.get(project.pk, [])) for project in self.projects]

    def status_choices(self) -> list[tuple[str, str]]:
        return [(status.key, status.label) for status in self.statuses]

    def assignee_choices(self, *, empty: str) -> list[tuple[str, Any]]:
        return [("", empty),
                (gettext("Agents"), [(f"agent:{a.pk}", a.display_name) for a in self.agents]),
                (gettext("Teams"), [(f"team:{t.pk}", t.name) for t in self.teams])]

    def project_choices(self, *, empty: str) -> list[tuple[str, str]]:
        return [("", empty)] + [(str(p.pk), p.name) for p in self.projects]

    def folder_choices(self, project_id: Any, *, empty: str = "") -> list[tuple[str, str]]:
        return [("", empty or gettext("No folder"))] + [(str(f.pk), f.name) for f in self.folders if str(f.project_id) == str(project_id)]

    def move_choices(self) -> list[tuple[str, Any]]:
        """One select for "move to": a project, or a folder inside it."""
        choices: list[tuple[str, Any]] = [("", "—"), (NONE, gettext("No project"))]
        for project in self.projects:
            folders = [(f"folder:{f.pk}", f"{project.name} / {f.name}") for f in self.folders
                       if f.project_id == project.pk]
            choices.append((project.name, [(f"project:{project.pk}", project.name)] + folders))
        return choices

    def agent_name(self, ref: str) -> str:
        """A readable name for "agent:3" or "team:2" (the form the history stores)."""
        kind, _, number = ref.partition(":")
        pool: list[Any] = self.agents if kind == "agent" else self.teams if kind == "team" else []
        for record in pool:
            if str(record.pk) == number:
                return str(record.display_name if kind == "agent" else record.name)
        return ref


def priority_choices() -> list[tuple[str, str]]:
    return [(priority.key, gettext(priority.label)) for priority in Priority]


def assignee_refs(value: str | Sequence[str], *, field: str = "assignees") -> list[AssigneeRef]:
    """`agent:3` / `team:2` from a select (or several, from checkboxes) as the services' assignee
    refs; empty means nobody."""
    refs = []
    for part in [value] if isinstance(value, str) else value:
        if not part or part == NONE:
            continue
        kind, _, number = part.partition(":")
        if kind not in ("agent", "team"):
            raise Invalid("invalid_assignees", gettext("Choose an agent or a team."), field=field)
        refs.append(AssigneeRef(kind="agent" if kind == "agent" else "team",
                                id=parse_id(number, field=field, what=kind.capitalize())))
    return refs


def optional_id(value: str | None, *, field: str) -> int | None:
    """An id from a select whose empty choice means "none"."""
    return parse_id(value, field=field) if value else None


def select(choices: list[tuple[str, Any]], **attrs: Any) -> forms.Select:
    return forms.Select(choices=choices, attrs=attrs)


# The longest title the service stores (its column): the field's maxlength says it before sending.
TITLE_MAX = Item._meta.get_field("title").max_length or 300


class NewItemForm(forms.Form):
    # Not required here: the service says what is missing, in the same words as the API.
    title = forms.CharField(label=gettext_lazy("Title"), required=False, max_length=TITLE_MAX,
                            error_messages={"max_length": format_lazy(gettext_lazy("Title has at most {max} characters."), max=TITLE_MAX)},
                            widget=forms.TextInput(attrs={"autofocus": True}))
    description = forms.CharField(label=gettext_lazy("Description"), required=False, max_length=200_000,
                                  widget=forms.Textarea(attrs={"rows": 6}))
    requester_email = forms.CharField(label=gettext_lazy("Requester email"), required=False, max_length=2000,
                                      widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    priority = forms.CharField(label=gettext_lazy("Priority"), required=False, max_length=20)
    assignee = forms.CharField(label=gettext_lazy("Assignee"), required=False, max_length=40)
    project = forms.CharField(label=gettext_lazy("Project"), required=False, max_length=40)
    folder = forms.CharField(label=gettext_lazy("Folder"), required=False, max_length=40)

    def __init__(self, *args: Any, kind: str, choices: Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if kind == "ticket":
            self.fields["requester_email"].help_text = gettext(
                "Found among the customers, or a new customer is created and filed by their domain.")
        else:
            self.fields["requester_email"].help_text = gettext("Optional: the customer this task is for.")
        self.fields["priority"].initial = Priority.NORMAL.key
        self.fields["priority"].widget = select(priority_choices())
        self.fields["assignee"].widget = select(choices.assignee_choices(empty=gettext("Nobody")))
        self.fields["project"].widget = select(
            choices.project_choices(empty=gettext("No project")),
            **{"hx-get": "/items/folder-options", "hx-target": "#id_folder", "hx-trigger": "change"})
        project = self.data.get("project") if self.is_bound else ""
        self.fields["folder"].widget = select(choices.folder_choices(project))
        self.fields.update(custom_form_fields(kind))


class CustomFieldsForm(forms.Form):
    """The custom fields of one item, edited in place."""

    def __init__(self, *args: Any, kind: str, values: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(custom_form_fields(kind, values))


# "1h 30m", "1 h", "45 min", "2 hours 5 minutes": hours and minutes, each optional, in that order.
_HOURS_MINUTES = re.compile(r"(?:(\d{1,3})\s*(?:h|hr|hrs|hour|hours))?\s*(?:(\d{1,4})\s*(?:m|min|mins|minute|minutes)?)?",
                            re.ASCII)
MINUTES_HELP = gettext_lazy("Such as 90, 1:30, 1h 30m or 1.5h.")


def parse_minutes(text: str) -> int | None:
    """Time spent as people type it: 90, 1:30, 1h 30m, 1h, 45m, 1.5h (or 1,5h). None when it is
    none of these; how many minutes an entry may have is the service's rule."""
    text = " ".join(text.strip().lower().split())
    if not text or len(text) > 20:
        return None
    if re.fullmatch(r"[0-9]{1,6}", text):
        return int(text)
    if match := re.fullmatch(r"(\d{1,3}):([0-5]\d)", text, re.ASCII):
        return int(match.group(1)) * 60 + int(match.group(2))
    if match := re.fullmatch(r"(\d{0,3}[.,]\d{1,2})\s*(?:h|hr|hrs|hour|hours)", text, re.ASCII):
        return round(float(match.group(1).replace(",", ".")) * 60)
    match = _HOURS_MINUTES.fullmatch(text)
    if match and (match.group(1) or match.group(2)):
        return int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
    return None


class MinutesField(forms.CharField):
    """The time spent, in any of `parse_minutes`'s forms: the item page and /timesheets alike."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", MINUTES_HELP)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "text", "autocomplete": "off",
                                                           "placeholder": "30"}))
        super().__init__(label=gettext_lazy("Minutes"), max_length=20, **kwargs)

    def clean(self, value: Any) -> Any:
        text = super().clean(value)
        minutes = parse_minutes(text)
        if minutes is None:
            raise forms.ValidationError(gettext("Enter the time spent, such as 90, 1:30, 1h 30m or 1.5h."))
        return minutes


class TimeForm(forms.Form):
    minutes = MinutesField(widget=forms.TextInput(attrs={"inputmode": "text", "autocomplete": "off",
                                                         "placeholder": "30", "class": "narrow"}))
    date = forms.CharField(label=gettext_lazy("Date"), required=False, max_length=20,
                           widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=2000)
    billable = forms.BooleanField(label=gettext_lazy("Billable"), required=False, initial=True)

    def minutes_value(self) -> int:
        """Minutes, parsed by `MinutesField`; how many the service allows is its rule."""
        return int(self.cleaned_data["minutes"])
