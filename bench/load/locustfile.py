"""The load campaign's users (locust): agents working tickets in the web app, API clients,
customers in the portal and mail senders over SMTP. Driven by bench/load/run.py, which seeds the
help desk and passes what the users need through the environment:

    LOAD_SEED       the JSON bench/load/seed.py printed (agents, tokens, customers, tickets)
    LOAD_RECORDS    a file to which every acknowledged write is appended (one JSON per line), so
                    that run.py can check afterwards that each is in the database exactly once
    LOAD_SMTP       host:port of the SMTP listener
    LOAD_MIX        weights, e.g. "agent=50,api=0,portal=0,mail=0"

Every user signs in once and then works at a person's pace (a request every 0.5–2 s)."""

from __future__ import annotations

import itertools
import json
import os
import random
import smtplib
import threading
import time
import uuid
from email.message import EmailMessage
from typing import Any

from locust import HttpUser, User, between, events, task

SEED: dict[str, Any] = json.loads(open(os.environ["LOAD_SEED"]).read())  # noqa: SIM115 - read once
RECORDS = open(os.environ["LOAD_RECORDS"], "a", buffering=1)  # noqa: SIM115 - open for the whole run
_record_lock = threading.Lock()
MIX = dict((part.split("=")[0], int(part.split("=")[1]))
           for part in os.environ.get("LOAD_MIX", "agent=6,api=2,portal=1,mail=1").split(",") if part)
# LOAD_THINK scales the pause between a user's requests (0: none, to measure throughput).
THINK = float(os.environ.get("LOAD_THINK", "1"))
_agents = itertools.cycle(SEED["agents"])
_customers = itertools.cycle(SEED["customers"] or [""])
_tokens = itertools.cycle(SEED["tokens"])
STATUSES: dict[str, int] = {}
TIMES: dict[str, list[tuple[float, float]]] = {}


def record(kind: str, **values: Any) -> None:
    with _record_lock:
        RECORDS.write(json.dumps({"kind": kind, "at": time.time(), **values}) + "\n")


@events.request.add_listener
def _count_status(request_type: str, name: str, response_time: float, response_length: int,
                  response: Any = None, exception: Any = None, **kwargs: Any) -> None:
    status = getattr(response, "status_code", None)
    key = str(status) if status else f"error:{type(exception).__name__}" if exception else "ok"
    STATUSES[key] = STATUSES.get(key, 0) + 1
    TIMES.setdefault(f"{request_type} {name}", []).append((round(time.time(), 2), round(response_time, 2)))


@events.quitting.add_listener
def _write_statuses(environment: Any, **kwargs: Any) -> None:
    path = os.environ.get("LOAD_STATUSES")
    if path:
        with open(path, "w") as handle:
            json.dump({"statuses": STATUSES, "times": TIMES}, handle)


def _csrf(user: HttpUser) -> str:
    return str(user.client.cookies.get("csrftoken", ""))


def _sign_in(user: HttpUser, path: str, email: str) -> None:
    user.client.get(path, name=path)
    user.client.post(path, {"email": email, "password": SEED["password"], "csrfmiddlewaretoken": _csrf(user)},
                     headers={"Referer": f"{user.host}{path}"}, name=f"{path} (POST)")


class Agent(HttpUser):
    weight = MIX.get("agent", 0)
    wait_time = between(0.5 * THINK, 2.0 * THINK)

    def on_start(self) -> None:
        _sign_in(self, "/login", next(_agents))

    def _ticket(self) -> int:
        return int(random.choice(SEED["tickets"]))

    @task(4)
    def ticket_list(self) -> None:
        self.client.get("/tickets", name="/tickets")

    @task(1)
    def filtered_list(self) -> None:
        self.client.get("/tickets?status=new&sort=-updated", name="/tickets?filter")

    @task(4)
    def open_ticket(self) -> None:
        self.client.get(f"/tickets/{self._ticket()}", name="/tickets/[id]")

    @task(2)
    def add_note(self) -> None:
        ticket = self._ticket()
        marker = uuid.uuid4().hex
        with self.client.post(f"/tickets/{ticket}/note", {"body": f"Checked the queue {marker}",
                                                           "csrfmiddlewaretoken": _csrf(self)},
                              headers={"Referer": f"{self.host}/tickets/{ticket}"}, name="/tickets/[id]/note",
                              allow_redirects=False, catch_response=True) as response:
            if response.status_code in (302, 303):
                record("note", ticket=ticket, marker=marker)
                response.success()
            else:
                response.failure(f"status {response.status_code}")


class ApiClient(HttpUser):
    weight = MIX.get("api", 0)
    wait_time = between(0.5 * THINK, 2.0 * THINK)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {next(_tokens)}"

    @task(3)
    def list_tickets(self) -> None:
        self.client.get("/api/v1/tickets?page_size=25", name="/api/v1/tickets")

    @task(2)
    def create_ticket(self) -> None:
        marker = uuid.uuid4().hex
        with self.client.post("/api/v1/tickets", json={"title": f"API request {marker}",
                                                         "requester_email": f"api-{marker[:8]}@client3.example"},
                              name="/api/v1/tickets (POST)", catch_response=True) as response:
            if response.status_code == 201:
                record("api_ticket", id=response.json()["id"], marker=marker)
            else:
                response.failure(f"status {response.status_code}")

    @task(2)
    def add_note(self) -> None:
        ticket = int(random.choice(SEED["tickets"]))
        marker = uuid.uuid4().hex
        with self.client.post(f"/api/v1/tickets/{ticket}/notes", json={"body": f"API note {marker}"},
                              name="/api/v1/tickets/[id]/notes", catch_response=True) as response:
            if response.status_code == 201:
                record("api_note", id=response.json()["id"], ticket=ticket, marker=marker)
            else:
                response.failure(f"status {response.status_code}")


class PortalCustomer(HttpUser):
    weight = MIX.get("portal", 0)
    wait_time = between(1.0 * THINK, 3.0 * THINK)

    def on_start(self) -> None:
        _sign_in(self, "/portal/login", next(_customers))

    @task(3)
    def home(self) -> None:
        self.client.get("/portal/", name="/portal/")

    @task(1)
    def mine(self) -> None:
        self.client.get("/portal/?tab=mine", name="/portal/?tab=mine")

    @task(1)
    def new_request(self) -> None:
        marker = uuid.uuid4().hex
        with self.client.post("/portal/requests/new", {"title": f"Portal request {marker}",
                                                        "description": "The VPN drops every hour.",
                                                        "csrfmiddlewaretoken": _csrf(self)},
                              headers={"Referer": f"{self.host}/portal/requests/new"}, allow_redirects=False,
                              name="/portal/requests/new", catch_response=True) as response:
            if response.status_code in (302, 303):
                record("portal_request", marker=marker)
                response.success()
            else:
                response.failure(f"status {response.status_code}")


class MailSender(User):
    """A mail server delivering to the help desk: one connection per mail, as most do."""

    weight = MIX.get("mail", 0)
    wait_time = between(0.5 * THINK, 1.5 * THINK)

    @task
    def send(self) -> None:
        host, _, port = os.environ["LOAD_SMTP"].rpartition(":")
        marker = uuid.uuid4().hex
        mail = EmailMessage()
        mail["From"] = f"Sender {marker[:6]} <mail-{marker[:10]}@client{random.randint(0, 7)}.example>"
        mail["To"] = SEED["support"]
        mail["Subject"] = f"Mail request {marker}"
        mail["Message-ID"] = f"<{marker}@load.example>"
        mail.set_content("Our shared drive is read-only since this morning.\n")
        started = time.perf_counter()
        exception: Exception | None = None
        try:
            with smtplib.SMTP(host, int(port), timeout=30) as client:
                client.send_message(mail)
            record("mail", message_id=f"<{marker}@load.example>", marker=marker)
        except (OSError, smtplib.SMTPException) as exc:
            exception = exc
        events.request.fire(request_type="SMTP", name="DATA", response_time=(time.perf_counter() - started) * 1000,
                            response_length=0, exception=exception, context={})
