"""Typed inputs of the account services."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Registration:
    """What a person types on the sign-up page."""

    email: str
    name: str
    password: str
    language: str = ""
