"""API tokens: created (shown once), stored as a hash, revoked. What a caller may see is in ``visibility``."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Caller, Role
from okr_rollout.driver import DriverStatement, fetch_one
from okr_rollout.errors import NotFound, Unprocessable
from okr_rollout.models import ApiToken, Person

TOKEN_PREFIX = "okr_"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def create_token(
    session: Session,
    *,
    role: Role,
    name: str | None = None,
    person_id: int | None = None,
    organization_id: int | None = None,
    scopes: list[str] | None = None,
) -> tuple[str, ApiToken]:
    """A new token; the raw value is returned once and never stored."""
    if role in (Role.coach, Role.internal_coach) and person_id is None:
        raise Unprocessable(f"a {role.value} token needs --person")
    if person_id is not None:
        person = session.get(Person, person_id)
        if person is None:
            raise NotFound(f"no person {person_id}")
        if role == Role.internal_coach:
            if person.organization_id is None:
                raise Unprocessable(f"person {person_id} belongs to no organization")
            organization_id = person.organization_id
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name or (f"person-{person_id}" if person_id else role.value),
        role=role.value,
        person_id=person_id,
        organization_id=organization_id,
        scopes=sorted(set(scopes or [])),
        token_hash=hash_token(raw),
        prefix=raw[:10],
    )
    session.add(token)
    session.flush()
    return raw, token


def revoke_token(session: Session, token_id: int, at: datetime) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no token {token_id}")
    token.revoked_at = token.revoked_at or at
    session.flush()
    return token


def authenticate(session: Session, raw: str) -> Caller | None:
    statement, values = token_lookup(raw)
    token = fetch_one(session.connection(), statement, values)
    return None if token is None else caller_of(token)


def token_lookup(raw: str) -> tuple[DriverStatement, dict[str, str]]:
    """The statement finding the live token ``raw`` and its values, for a caller that sends it along with its
    own reads (one round trip); ``caller_of`` reads its row."""
    return _TOKEN_BY_HASH, {"token_hash": hash_token(raw)}


def caller_of(token: tuple[Any, ...]) -> Caller:
    token_id, name, role, person_id, organization_id, scopes = token
    return Caller(token_id=token_id, name=name, role=Role(role), person_id=person_id,
                  organization_id=organization_id, scopes=frozenset(scopes))


# Every API request starts here: a prebuilt statement on the driver's cursor (see ``okr_rollout.driver``).
_TOKENS = cast(Table, ApiToken.__table__)
_TOKEN_BY_HASH = DriverStatement(
    select(*(_TOKENS.c[name] for name in ("id", "name", "role", "person_id", "organization_id", "scopes")))
    .where(_TOKENS.c.token_hash == bindparam("token_hash"), _TOKENS.c.revoked_at.is_(None)))
