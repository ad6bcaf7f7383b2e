"""Every environment variable Deskhand reads, with its default (DESIGN §7). Nothing else configures it."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Conf(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DESKHAND_", extra="ignore")

    data_dir: Path = Path("var")
    http_addr: str = "127.0.0.1:8000"
    smtp_addr: str = "127.0.0.1:2525"
    admin_email: str = ""
    admin_password: str = ""
    support_addresses: str = ""
    # STARTTLS on the SMTP listener: PEM files; unset, a self-signed pair in the data directory.
    smtp_tls_cert: str = ""
    smtp_tls_key: str = ""
    database_url: str = Field("", validation_alias=AliasChoices("DATABASE_URL"))
    email_url: str = Field("", validation_alias=AliasChoices("EMAIL_URL"))
    # The address users reach Deskhand at. An https:// URL means "behind a TLS reverse proxy":
    # the proxy's X-Forwarded-Proto is trusted, cookies are Secure, plain http is redirected
    # (except /healthz) and browsers are told to use HTTPS only (HSTS, `hsts_seconds`).
    public_url: str = ""
    hsts_seconds: int = 365 * 24 * 3600
    # Redis (redis://host:6379/0) when more than one web process runs: live chat wakes its event
    # streams through Redis pub/sub; unset, within the one process.
    redis_url: str = ""
    # Scale-out (docs/deploy.md). `redis://host:6379/1`: tasks go to Redis and run on RQ workers
    # (django-tasks-rq); unset, they wait in the database. Redis named here (or by `redis_url`)
    # also holds the shared cache of all web processes.
    tasks_url: str = ""
    # `s3://bucket/prefix?endpoint_url=…&region=…`: attachments in S3-compatible object storage
    # (django-storages); unset, in the data directory.
    storage_url: str = ""
    # GET /metrics for Prometheus: with a token, for `Authorization: Bearer <token>`; without, only
    # for requests from this machine or a private network that no proxy relayed.
    metrics_token: str = ""
    # The same two keys on every host (`deskhand keys` prints a pair): sessions and signed links,
    # and the encryption of mailbox passwords. Unset, each is a file in the data directory.
    secret_key: str = ""
    mailbox_key: str = ""
    # Web requests one web process runs at once (`serve` and each process of `deskhand web`).
    web_threads: int = Field(32, ge=1, le=256)

    @property
    def https(self) -> bool:
        return self.public_url.lower().startswith("https://")

    @property
    def public_origin(self) -> str:
        """`https://help.example.com` from `https://help.example.com/any/path`; "" when unset."""
        scheme, _, rest = self.public_url.partition("://")
        return f"{scheme.lower()}://{rest.split('/')[0]}" if rest else ""

    @property
    def shared_redis_url(self) -> str:
        """The Redis every web process shares for its cache, "" when there is none. (Live chat's
        wake-ups use `redis_url` only: set it too when several web processes serve chat.)"""
        return self.redis_url or self.tasks_url

    @property
    def support_address_list(self) -> list[str]:
        return [part.strip() for part in self.support_addresses.split(",") if part.strip()]


def split_addr(addr: str, *, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """`host:port`, `:port` or `[::1]:port` → (host, port)."""
    host, _, port = addr.rpartition(":")
    host = host.strip("[]") or default_host
    return host, int(port)


conf = Conf()  # type: ignore[call-arg]  # pydantic-settings fills the fields from the environment
