from typing import Any


def test_healthz_answers_json_without_a_token(db: Any, client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["database"] in {"sqlite", "postgresql"}
