"""What the replies services take, built by the web forms and the API schemas alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from deskhand.automations.rules import Action
from deskhand.core.inputs import UNSET, Maybe
from deskhand.work.services.messages import NewAttachment


@dataclass(frozen=True)
class NewCannedResponse:
    title: str
    body: str
    shortcut: str = ""
    shared: bool = False  # shared with the team (admins only), else the author's own


@dataclass(frozen=True)
class CannedChanges:
    title: Maybe[str] = UNSET
    body: Maybe[str] = UNSET
    shortcut: Maybe[str] = UNSET
    shared: Maybe[bool] = UNSET


@dataclass(frozen=True)
class NewMacro:
    name: str
    reply: str = ""
    actions: Sequence[Action] = ()
    shared: bool = False


@dataclass(frozen=True)
class MacroChanges:
    name: Maybe[str] = UNSET
    reply: Maybe[str] = UNSET
    actions: Maybe[Sequence[Action]] = UNSET
    shared: Maybe[bool] = UNSET


@dataclass(frozen=True)
class Reply:
    """What the reply box sends: Markdown, its copies, the status to set after ("pending" or
    "done", a status category; "" for none), and whether the agent's signature goes below."""

    body: str
    cc: Sequence[str] = ()
    bcc: Sequence[str] = ()
    then: str = ""
    signature: bool = True
    attachments: Sequence[NewAttachment] = ()


@dataclass(frozen=True)
class Draft:
    body: str = ""
    cc: str = ""
    bcc: str = ""
