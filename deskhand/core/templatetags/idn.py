"""`{{ address|idn }}`: an address or domain stored in its ASCII (IDNA) form, as people write it
(`ana@xn--bcher-kva.de` → `ana@bücher.de`). A built-in filter: every template has it."""

from __future__ import annotations

from django import template

from deskhand.core.emailaddr import display_domain

register = template.Library()


def display_address(value: str) -> str:
    """An address or a bare domain with its domain in Unicode; anything else unchanged."""
    if "xn--" not in value:
        return value
    local, at, domain = value.rpartition("@")
    if not domain or " " in domain:  # a name, a sentence: not an address or a domain
        return value
    return f"{local}{at}{display_domain(domain.lower())}"


@register.filter(is_safe=True)
def idn(value: object) -> object:
    """Leaves non-text (None, a lazy empty value) alone so that `|default:` still works after it."""
    return display_address(value) if isinstance(value, str) else value
