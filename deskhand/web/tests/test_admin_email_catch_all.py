"""Administration → Email, the catch-all domains, with Django's test client: the page reads and changes
the setting `smtp_catch_all_domains` through the settings service (as `PATCH /api/v1/settings` does);
fields are found by their label and buttons by their name, as a person finds them."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client

from deskhand.agents.models import Agent
from deskhand.config.queries import get_setting
from deskhand.config.services import MAX_CATCH_ALL_DOMAINS, update_settings
from deskhand.core.actors import SYSTEM
from deskhand.mail.queries import is_ticket_address
from deskhand.web.tests.test_admin_email import field_block

pytestmark = pytest.mark.django_db

PAGE = "/admin/email"
ADD = "Add catch-all domain"
LABEL = "Catch-all domain"


def catch_all() -> list[str]:
    return list(get_setting("smtp_catch_all_domains"))


def section(page: str) -> str:
    match = re.search(r'<section class="card" id="catch-all".*?</section>', page, re.DOTALL)
    assert match, "no catch-all section"
    return match.group(0)


def field_by_label(page: str, label: str) -> tuple[str, str]:
    """The name of the input labelled `label`, and the block around it (where its error shows)."""
    match = re.search(rf'<label for="([^"]+)">{re.escape(label)}</label>', page)
    assert match, f"no field labelled {label}"
    block = field_block(page, match.group(1))
    name = re.search(rf'name="([^"]+)"[^>]*id="{match.group(1)}"', block)
    assert name, f"no input for {label}"
    return name.group(1), block


def form_action(page: str, button: str) -> str:
    """Where the POST form whose button is named `button` (its text, hidden words included) goes."""
    for action, body in re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', page, re.DOTALL):
        for text in re.findall(r"<button[^>]*>(.*?)</button>", body, re.DOTALL):
            if " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split()) == button:
                return str(action)
    raise AssertionError(f"no button named {button!r}")


def add(client: Client, domain: str) -> tuple[int, str, str]:
    """Type `domain` in the labelled field and press the add button: status, where to, the page."""
    page = client.get(PAGE).content.decode()
    name, _ = field_by_label(page, LABEL)
    response = client.post(form_action(page, ADD), {name: domain})
    return response.status_code, response.get("Location", ""), response.content.decode()


def test_the_section_says_what_it_does_and_starts_empty(admin_client: Client) -> None:
    part = section(admin_client.get(PAGE).content.decode())
    assert "Catch-all domains" in part and '<span class="count">0</span>' in part
    assert ("The SMTP listener takes mail to any address at these domains; other addresses that are not ticket "
            "addresses are refused (550).") in part
    assert "None: only ticket addresses take mail." in part
    name, block = field_by_label(part, LABEL)
    assert name == "domain" and 'placeholder="example.com"' in block
    assert form_action(part, ADD) == "/admin/email/catch-all"


def test_add_a_domain_normalised_and_then_mail_to_any_address_there_is_taken(admin_client: Client) -> None:
    assert not is_ticket_address("sales@example.com")
    status, location, _ = add(admin_client, "  Example.COM. ")
    assert (status, location) == (302, "/admin/email#catch-all")
    assert catch_all() == ["example.com"]
    assert is_ticket_address("sales@example.com") and is_ticket_address("Anyone@EXAMPLE.com")
    assert not is_ticket_address("sales@other.example")

    page = admin_client.get(PAGE).content.decode()
    assert "Mail to any address at example.com is now taken." in page
    part = section(page)
    assert '<span class="addr">example.com</span>' in part and '<span class="count">1</span>' in part
    assert form_action(part, "Remove example.com") == "/admin/email/catch-all/example.com/delete"

    # A domain in another script is kept in IDNA form and shown as typed; a repeat changes nothing.
    assert add(admin_client, "bücher.example")[0] == 302
    assert catch_all() == ["example.com", "xn--bcher-kva.example"]
    page = admin_client.get(PAGE).content.decode()
    assert "Mail to any address at bücher.example is now taken." in page
    assert '<span class="addr" title="xn--bcher-kva.example">bücher.example</span>' in section(page)
    assert add(admin_client, "EXAMPLE.com")[0] == 302
    assert catch_all() == ["example.com", "xn--bcher-kva.example"]
    assert "That domain is already a catch-all domain." in admin_client.get(PAGE).content.decode()


def test_remove_a_domain(admin_client: Client) -> None:
    update_settings({"smtp_catch_all_domains": ["example.com", "kept.example"]}, actor=SYSTEM)
    page = admin_client.get(PAGE).content.decode()
    action = form_action(section(page), "Remove example.com")
    response = admin_client.post(action)
    assert response.status_code == 302 and response["Location"] == "/admin/email#catch-all"
    assert catch_all() == ["kept.example"]
    assert not is_ticket_address("sales@example.com") and is_ticket_address("sales@kept.example")
    page = admin_client.get(PAGE).content.decode()
    assert "example.com is no longer a catch-all domain." in page
    assert "Remove example.com" not in page and '<span class="addr">kept.example</span>' in section(page)
    # Gone already, or never there: not found, and nothing else changes.
    assert admin_client.post(action).status_code == 404
    assert admin_client.post("/admin/email/catch-all/KEPT.example/delete").status_code == 404
    assert catch_all() == ["kept.example"]


@pytest.mark.parametrize(("typed", "message"), [
    ("not a domain", "“not a domain” is not a valid domain name, such as acme.com."),
    ("x" * 300, "A domain has at most 253 characters."),
    ("abc." * 75 + "com", "A domain has at most 253 characters."),
    ("@", "Enter a domain such as acme.com."),
    ("", "Enter a domain such as acme.com."),
    ("   ", "Enter a domain such as acme.com."),
    ("com", "“com” is not a valid domain name, such as acme.com."),
    ("sales@example.com", "Enter a domain such as acme.com, not an address."),
])
def test_bad_input_is_refused_at_the_field_and_changes_nothing(admin_client: Client, typed: str,
                                                              message: str) -> None:
    update_settings({"smtp_catch_all_domains": ["kept.example"]}, actor=SYSTEM)
    status, _, page = add(admin_client, typed)
    assert status == 422
    _, block = field_by_label(section(page), LABEL)
    assert 'class="field has-error"' in block
    assert f'<p class="field-error" role="alert">{html.escape(message)}</p>' in block
    assert catch_all() == ["kept.example"]
    assert '<span class="addr">kept.example</span>' in section(page)  # the list is still shown


def test_the_number_of_domains_is_bounded(admin_client: Client) -> None:
    full = [f"d{number}.example" for number in range(MAX_CATCH_ALL_DOMAINS)]
    update_settings({"smtp_catch_all_domains": full}, actor=SYSTEM)
    assert add(admin_client, "d0.example")[0] == 302  # already there: still within the bound
    status, _, page = add(admin_client, "one-more.example")
    assert status == 422
    assert f"There can be at most {MAX_CATCH_ALL_DOMAINS} catch-all domains." in field_by_label(section(page), LABEL)[1]
    assert catch_all() == sorted(full)


@pytest.mark.parametrize(("url", "data"), [("/admin/email/catch-all", {"domain": "sneaky.example"}),
                                           ("/admin/email/catch-all/kept.example/delete", {})])
def test_only_admins(agent_client: Client, client: Client, url: str, data: dict[str, str]) -> None:
    update_settings({"smtp_catch_all_domains": ["kept.example"]}, actor=SYSTEM)
    assert agent_client.post(url, data).status_code == 403
    signed_out = client.post(url, data)
    assert signed_out.status_code == 302 and signed_out["Location"].startswith("/login")
    assert agent_client.get(PAGE).status_code == 403  # nor does an agent see the list
    assert catch_all() == ["kept.example"]


def test_the_forms_need_the_csrf_token(admin: Agent) -> None:
    update_settings({"smtp_catch_all_domains": ["kept.example"]}, actor=SYSTEM)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert client.post("/admin/email/catch-all", {"domain": "sneaky.example"}).status_code == 403
    assert client.post("/admin/email/catch-all/kept.example/delete").status_code == 403
    assert catch_all() == ["kept.example"]
    part = section(client.get(PAGE).content.decode())
    assert part.count('name="csrfmiddlewaretoken"') == 2  # the add form and the one remove button
    assert client.get("/admin/email/catch-all").status_code == 405
