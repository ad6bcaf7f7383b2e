"""/healthz: public, JSON, each dependency checked, nothing about the servers in it."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import FileSystemStorage


def test_healthz_answers_json_without_a_token(db: Any, client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["database"] in {"sqlite", "postgresql"}


def test_healthz_reports_database_queue_and_storage(db: Any, client: Any) -> None:
    checks = client.get("/healthz").json()["checks"]
    assert set(checks) == {"database", "queue", "storage"}
    assert all(check["ok"] for check in checks.values())
    assert checks["queue"]["backend"] in {"database", "redis"}
    assert checks["storage"]["backend"] in {"filesystem", "s3"}


class BrokenStorage(FileSystemStorage):
    def exists(self, name: str) -> bool:
        raise OSError("s3.internal:9000 refused the connection with key AKIASECRET")


def test_storage_out_of_reach_is_a_503_that_names_the_part_but_no_detail(db: Any, client: Any, settings: Any) -> None:
    settings.STORAGES = {**settings.STORAGES, "attachments": {
        "BACKEND": f"{__name__}.BrokenStorage", "OPTIONS": {"location": str(settings.DATA_DIR / "attachments")}}}
    response = client.get("/healthz")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["storage"]["ok"] is False and body["checks"]["database"]["ok"] is True
    assert "internal" not in response.content.decode() and "AKIA" not in response.content.decode()


def test_a_redis_queue_out_of_reach_is_a_503(db: Any, client: Any, settings: Any) -> None:

    settings.TASKS_VENDOR = "redis"
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:1/0", "SOCKET_CONNECT_TIMEOUT": 1}}
    response = client.get("/healthz")
    assert response.status_code == 503
    queue = response.json()["checks"]["queue"]
    assert queue["ok"] is False and queue["backend"] == "redis"
