"""/metrics for Prometheus: the help desk's mail and queue figures and the requests' latency, for
this machine or a private network, or for the configured token; a 404 to anyone else."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from deskhand.core.actors import SYSTEM
from deskhand.ingest.pipeline import process_ids
from deskhand.ingest.receive import receive_raw
from deskhand.mail.services import create_mailbox
from deskhand.mail.tests.mails import make_mail

pytestmark = pytest.mark.django_db


def _figures(text: str) -> dict[str, float]:
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
            if line and not line.startswith("#")}


def test_mail_and_queue_figures_and_request_counts() -> None:
    create_mailbox(address="support@deskhand.test", actor=SYSTEM)
    rows = [receive_raw(make_mail(subject=f"Printer {n}"), transport="http", process=False) for n in range(3)]
    process_ids([rows[0].pk])
    client = Client()
    client.get("/login")
    response = client.get("/metrics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    figures = _figures(response.content.decode())
    assert figures['deskhand_inbound_mail{status="received"}'] == 2
    assert figures['deskhand_inbound_mail{status="processed"}'] == 1
    assert figures['deskhand_inbound_mail{status="failed"}'] == 0
    assert 'deskhand_outbound_mail{status="queued"}' in figures
    assert "deskhand_queue_depth" in figures and "deskhand_queue_oldest_seconds" in figures
    assert figures['deskhand_http_requests_total{area="web",status="2xx"}'] >= 1
    assert figures['deskhand_http_request_duration_seconds_count{area="web"}'] >= 1


@pytest.mark.parametrize("address", ["8.8.8.8", "2a00:1450:4001::8a"])
def test_a_public_address_gets_a_404(address: str) -> None:
    assert Client(REMOTE_ADDR=address).get("/metrics").status_code == 404


def test_a_request_relayed_by_a_proxy_gets_a_404_even_from_loopback() -> None:
    assert Client().get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 404


def test_a_private_network_may_read_it() -> None:
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 200


def test_with_a_token_only_the_token_opens_it(monkeypatch: Any) -> None:
    from deskhand.conf import conf

    monkeypatch.setattr(conf, "metrics_token", "s3cret-metrics-token")
    assert Client().get("/metrics").status_code == 404
    assert Client().get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    opened = Client(REMOTE_ADDR="203.0.113.7").get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token"})
    assert opened.status_code == 200 and b"deskhand_inbound_mail" in opened.content


def test_only_get_is_answered() -> None:
    assert Client().post("/metrics").status_code == 405
