"""Behind a TLS reverse proxy: `DESKHAND_PUBLIC_URL=https://…` is all `check --deploy` asks for."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

DESKHAND = str(Path(sys.executable).with_name("deskhand"))

REQUESTS = """
import json
from django.test import Client
c = Client()
out = {}
r = c.get("/healthz"); out["healthz"] = r.status_code
r = c.get("/login"); out["plain"] = [r.status_code, r.headers.get("Location")]
r = c.get("/login", headers={"X-Forwarded-Proto": "https"})
out["proxied"] = [r.status_code, r.headers.get("Strict-Transport-Security"), r.cookies["csrftoken"]["secure"]]
print(json.dumps(out))
"""


def _env(tmp_path: Path, **variables: str) -> dict[str, str]:
    # As a deployment has it: none of the test run's own variables (the browser tests allow async-unsafe).
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("DESKHAND_") and key != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {**env, "DESKHAND_DATA_DIR": str(tmp_path), "DATABASE_URL": "", **variables}


def test_check_deploy_passes_behind_https(tmp_path: Path) -> None:
    env = _env(tmp_path, DESKHAND_PUBLIC_URL="https://help.example.com")
    checked = subprocess.run([DESKHAND, "check", "--deploy", "--fail-level", "WARNING"], env=env,
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no issues" in checked.stdout


def test_check_deploy_names_what_is_missing_without_it(tmp_path: Path) -> None:
    checked = subprocess.run([DESKHAND, "check", "--deploy", "--fail-level", "WARNING"], env=_env(tmp_path),
                             capture_output=True, text=True)
    assert checked.returncode != 0 and "SESSION_COOKIE_SECURE" in checked.stdout + checked.stderr


def test_behind_https_plain_http_is_redirected_except_healthz(tmp_path: Path) -> None:
    env = _env(tmp_path, DESKHAND_PUBLIC_URL="https://help.example.com/")
    subprocess.run([DESKHAND, "migrate", "-v0"], env=env, check=True)
    shown = subprocess.run([DESKHAND, "shell", "-c", REQUESTS], env=env, capture_output=True, text=True, check=True)
    result = json.loads(shown.stdout.strip().splitlines()[-1])
    assert result["healthz"] == 200  # the proxy's and the monitor's probe over plain http
    assert result["plain"] == [301, "https://testserver/login"]
    status, hsts, secure_cookie = result["proxied"]
    assert status == 200 and hsts == "max-age=31536000; includeSubDomains" and secure_cookie is True
