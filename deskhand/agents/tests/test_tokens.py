from __future__ import annotations

from typing import Any

import pytest

from deskhand.agents.models import Agent, ApiToken
from deskhand.agents.services import authenticate_token, issue_token, revoke_token
from deskhand.core.actors import SYSTEM, Actor
from deskhand.core.errors import Forbidden


def test_a_token_is_shown_once_and_stored_hashed(admin: Agent) -> None:
    token, plain = issue_token(admin, name="script", actor=SYSTEM)
    assert plain.startswith("dh_") and len(plain) > 40
    stored = ApiToken.objects.get()
    assert plain not in (stored.token_hash, stored.prefix) and stored.prefix == plain[:10]
    assert authenticate_token(plain) == token


def test_wrong_revoked_or_inactive_tokens_do_not_authenticate(admin: Agent, agent: Agent) -> None:
    token, plain = issue_token(agent, actor=SYSTEM)
    assert authenticate_token(plain + "x") is None and authenticate_token("") is None
    revoke_token(token.pk, actor=Actor.agent(agent))
    assert authenticate_token(plain) is None
    _token, second = issue_token(agent, actor=SYSTEM)
    Agent.objects.filter(pk=agent.pk).update(is_active=False)
    assert authenticate_token(second) is None


def test_an_agent_cannot_revoke_someone_elses_token(admin: Agent, agent: Agent) -> None:
    token, _plain = issue_token(admin, actor=SYSTEM)
    with pytest.raises(Forbidden):
        revoke_token(token.pk, actor=Actor.agent(agent))


def test_use_is_recorded(admin: Agent, db: Any) -> None:
    _token, plain = issue_token(admin, actor=SYSTEM)
    authenticate_token(plain)
    assert ApiToken.objects.get().last_used_at is not None
