from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from deskhand.agents.models import Agent, ApiToken
from deskhand.agents.services import authenticate_token
from deskhand.customers.models import Customer, Organization


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_token_create_prints_a_working_token_as_the_last_word(admin: Agent) -> None:
    output = run("token", "create", "--email", "ADMIN@deskhand.test", "--name", "ci")
    token = output.split()[-1]
    assert authenticate_token(token) is not None
    listing = run("token", "list")
    assert "admin@deskhand.test" in listing and token not in listing and "active" in listing
    token_id = ApiToken.objects.get().pk
    run("token", "revoke", str(token_id))
    assert authenticate_token(token) is None


def test_token_for_an_unknown_agent_fails_clearly(db: Any) -> None:
    with pytest.raises(CommandError, match="No agent with email"):
        run("token", "create", "--email", "nobody@deskhand.test")


def test_customers_add_files_by_domain(db: Any) -> None:
    assert "in acme.com" in run("customers", "add", "Ana@Acme.com", "--name", "Ana")
    assert "in No organization" in run("customers", "add", "bob@gmail.com")
    with pytest.raises(CommandError, match="already exists"):
        run("customers", "add", "ana@acme.com")
    with pytest.raises(CommandError, match="email"):
        run("customers", "add", "nope")


def test_organizations_add_with_domains(db: Any) -> None:
    assert "Acme (acme.com, acme.de)" in run("organizations", "add", "Acme", "--domain", "@ACME.com", "--domain", "acme.de")
    with pytest.raises(CommandError):
        run("organizations", "add", "Copy", "--domain", "acme.com")
    with pytest.raises(CommandError, match="public suffix"):
        run("organizations", "add", "Brits", "--domain", "co.uk")
    assert not Organization.objects.filter(name__in=["Copy", "Brits"]).exists()
    assert "Acme" in run("organizations", "list")


def test_import_reports_rows_and_exits_non_zero_on_errors(db: Any, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("email,name\nana@acme.com,Ana\nbroken,Bob\n")
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 rows failed"):
        call_command("customers", "import", str(path), "--dry-run", stdout=out, stderr=io.StringIO())
    assert "line 2: created: ana@acme.com" in out.getvalue() and "line 3: error: broken" in out.getvalue()
    assert "Dry run, nothing written" in out.getvalue()
    assert not Customer.objects.exists()
    path.write_text("email,name\nana@acme.com,Ana\n")
    assert "1 created, 0 matched, 0 errors" in run("customers", "import", str(path))
    assert Customer.objects.count() == 1


def test_import_shows_changes_and_can_leave_existing_customers(db: Any, tmp_path: Path) -> None:
    run("customers", "add", "ana@acme.com", "--name", "Ana")
    path = tmp_path / "customers.csv"
    path.write_text("email,name\nana@acme.com,=Ana Lima\n")
    output = run("customers", "import", str(path), "--no-update-existing")
    assert "line 2: matched: ana@acme.com" in output and "name: Ana → =Ana Lima (left unchanged)" in output
    assert Customer.objects.get().name == "Ana"
    run("customers", "import", str(path))
    assert Customer.objects.get().name == "=Ana Lima"
    assert run("customers", "export").splitlines()[1] == "ana@acme.com,'=Ana Lima,,acme.com,,,"


def test_export_writes_csv(db: Any, tmp_path: Path) -> None:
    run("customers", "add", "ana@acme.com", "--name", "Ana")
    assert run("customers", "export").splitlines()[1] == "ana@acme.com,Ana,,acme.com,,,"
    target = tmp_path / "out.csv"
    run("customers", "export", "--output", str(target))
    assert "ana@acme.com" in target.read_text()


def test_agents_add(db: Any) -> None:
    assert "(admin)" in run("agents", "add", "boss@deskhand.test", "--admin", "--password", "long-enough-1")
    assert Agent.objects.get().check_password("long-enough-1")


def test_agents_add_refuses_the_address_as_password(db: Any) -> None:
    with pytest.raises(CommandError, match="password"):
        run("agents", "add", "boss.person@deskhand.test", "--password", "boss.person@deskhand.test")
    assert not Agent.objects.exists()


def test_token_create_for_the_configured_admin_works_before_serve_ran(db: Any, monkeypatch: Any) -> None:
    from deskhand.conf import conf

    monkeypatch.setattr(conf, "admin_email", "owner@deskhand.test")
    monkeypatch.setattr(conf, "admin_password", "a-long-admin-password")
    token = run("token", "create", "--email", "owner@deskhand.test").split()[-1]
    assert authenticate_token(token).agent.is_admin
