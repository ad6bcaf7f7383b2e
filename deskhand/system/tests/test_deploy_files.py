"""The reference deployment (deploy/, docs/deploy.md) names only commands, options and variables
that Deskhand has: a renamed option or a mistyped variable fails here, not on an operator's host."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands, load_command_class
from django.core.management.base import CommandError

from deskhand.conf import Conf
from deskhand.system.worker import STOP_TIMEOUT

ROOT = Path(settings.BASE_DIR)
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
SERVICES = ("deskhand-web.service", "deskhand-worker@.service", "deskhand-scheduler.service",
            "deskhand-smtpd@.service")
# Variables Deskhand's own libraries read: boto3's credentials, beside an s3:// storage URL.
LIBRARY_VARIABLES = re.compile(r"AWS_[A-Z0-9_]+")
VARIABLE = re.compile(r"(?<![A-Za-z0-9_])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)=")


def _compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return document


def _deskhand_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: service for name, service in compose["services"].items()
            if service.get("build", {}).get("dockerfile") == "deploy/Dockerfile"}


def _unit(name: str) -> dict[str, list[str]]:
    """`Key=value` lines of a unit file (any section), each key's values in order."""
    values: dict[str, list[str]] = {}
    for line in (UNITS / name).read_text().splitlines():
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(value)
    return values


def _deskhand_invocations() -> list[tuple[str, list[str]]]:
    """Every `deskhand …` command line of compose.yaml, the systemd units and the Procfile."""
    found: list[tuple[str, list[str]]] = []
    for name, service in _deskhand_services(_compose()).items():
        found.append((f"compose.yaml {name}", list(service["command"])))
    for unit in sorted(UNITS.glob("*.service")):
        for line in _unit(unit.name)["ExecStart"]:
            found.append((unit.name, shlex.split(line)))
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            process, _, command = line.partition(":")
            found.append((f"Procfile {process}", shlex.split(command)))
    return [(where, words[1:]) for where, words in found if Path(words[0]).name == "deskhand"]


def _check_command(where: str, arguments: list[str]) -> None:
    """The command exists and its own parser takes these options; `supervise`'s process too."""
    commands = get_commands()
    name = arguments[0]
    assert name in commands, f"{where}: `deskhand {name}` is not a command"
    parser = load_command_class(commands[name], name).create_parser("deskhand", name)
    try:
        options = parser.parse_args(arguments[1:])
    except CommandError as exc:
        pytest.fail(f"{where}: deskhand {shlex.join(arguments)}: {exc}")
    if name == "supervise":
        _check_command(where, options.process)


def _conf_variables() -> set[str]:
    names: set[str] = set()
    for field_name, field in Conf.model_fields.items():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        names |= {str(choice) for choice in choices} if choices else {f"DESKHAND_{field_name.upper()}"}
    return names


def test_every_deskhand_command_line_names_a_command_and_options_it_has() -> None:
    invocations = _deskhand_invocations()
    named = {arguments[0] for _, arguments in invocations}
    assert {"migrate", "web", "worker", "scheduler", "smtpd", "supervise"} <= named
    for where, arguments in invocations:
        _check_command(where, arguments)


def test_compose_runs_the_scale_out_processes_after_the_migration() -> None:
    compose = _compose()
    services = _deskhand_services(compose)
    assert {"postgres", "redis"} <= compose["services"].keys()
    assert services.keys() == {"migrate", "web", "worker", "scheduler", "smtpd"}
    assert services["migrate"]["command"] == ["deskhand", "migrate", "--no-input"]
    assert services["migrate"]["restart"] == "no"
    for name, service in services.items():
        assert service["volumes"] == ["deskhand-data:/var/lib/deskhand"], name
        if name != "migrate":
            assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
            # The stop waits for running work (STOP_TIMEOUT) before Docker kills the process.
            assert service["stop_signal"] == "SIGTERM"
            assert float(service["stop_grace_period"].removesuffix("s")) > STOP_TIMEOUT
    assert services["worker"]["deploy"]["replicas"] == 2
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    # The object store is there only when asked for.
    assert compose["services"]["garage"]["profiles"] == ["s3"]


def test_compose_holds_no_secret() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", text), "credentials in a URL"
    for name, service in _compose()["services"].items():
        assert "environment" not in service, f"{name}: settings go into an env file"
        assert all(path.endswith(".env") for path in service.get("env_file", [])), name


def test_deskhand_env_files_name_only_variables_deskhand_reads() -> None:
    compose = _compose()
    deskhand_files = {path for service in _deskhand_services(compose).values() for path in service["env_file"]}
    deskhand_files |= {Path(path).name for unit in SERVICES for path in _unit(unit)["EnvironmentFile"]}
    assert deskhand_files == {"deskhand.env"}
    known = _conf_variables()
    named = set(VARIABLE.findall((DEPLOY / "deskhand.env.example").read_text()))
    unknown = {name for name in named - known if not LIBRARY_VARIABLES.fullmatch(name)}
    assert not unknown, f"deploy/deskhand.env.example: not in deskhand/conf.py: {sorted(unknown)}"
    assert {"DATABASE_URL", "DESKHAND_TASKS_URL", "DESKHAND_STORAGE_URL", "EMAIL_URL"} <= named


def test_other_env_files_belong_to_their_own_image_alone() -> None:
    """postgres.env and garage.env hold those images' variables: no Deskhand process reads them."""
    compose = _compose()
    examples = {path.name.removesuffix(".example") for path in DEPLOY.glob("*.env.example")}
    used = {path for service in compose["services"].values() for path in service.get("env_file", [])}
    assert examples == used, "every example is for a file compose.yaml uses, and the other way round"
    for name, service in compose["services"].items():
        if name in _deskhand_services(compose):
            continue
        for path in service.get("env_file", []):
            named = set(VARIABLE.findall((DEPLOY / f"{path}.example").read_text()))
            assert named and all(variable.startswith(f"{name.upper()}_") for variable in named), path


@pytest.mark.parametrize("unit", [*SERVICES, "deskhand-migrate.service"])
def test_systemd_units_run_as_deskhand_hardened_and_stop_gracefully(unit: str) -> None:
    values = _unit(unit)
    assert values["User"] == ["deskhand"]
    assert values["EnvironmentFile"] == ["/etc/deskhand/deskhand.env"]
    assert values["KillSignal"] == ["SIGTERM"]
    assert int(values["TimeoutStopSec"][0]) > STOP_TIMEOUT
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes",
                       "ReadWritePaths": "/var/lib/deskhand"}.items():
        assert values[key] == [value], f"{unit}: {key}"
    assert values["WantedBy"] == ["deskhand.target"]
    if unit == "deskhand-migrate.service":
        assert values["Type"] == ["oneshot"] and values["Restart"] == ["on-failure"]
    else:
        assert values["Restart"] == ["always"]
        assert "deskhand-migrate.service" in values["After"][0].split()
        assert values["PartOf"] == ["deskhand.target"]


def test_the_deployment_guide_names_every_variable_and_metric() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text()
    missing = {name for name in _conf_variables() if f"`{name}`" not in guide}
    assert not missing, f"docs/deploy.md, Environment: {sorted(missing)}"
    metrics = re.findall(r"\"(deskhand_[a-z_]+)\"", (ROOT / "deskhand" / "system" / "metrics.py").read_text())
    assert len(metrics) >= 6 and all(f"`{name}" in guide for name in metrics)
