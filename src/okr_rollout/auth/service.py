"""API tokens: created (shown once), stored as a hash, revoked. What a caller may see is in ``visibility``."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy.orm import Session

from okr_rollout.auth import queries
from okr_rollout.auth.caller import Caller, Role
from okr_rollout.errors import Unprocessable, not_found
from okr_rollout.models import ApiToken, Person
from okr_rollout.texts import LocalizedText

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
        raise Unprocessable(LocalizedText("A coach's or an internal coach's token needs its person (--person).",
                                          "教練或內部教練的權杖需要指定其人員(--person)。"))
    if person_id is not None:
        person = session.get(Person, person_id)
        if person is None:
            raise not_found(LocalizedText("person", "人員"))
        if role == Role.internal_coach:
            if person.organization_id is None:
                raise Unprocessable(LocalizedText(f"{person.name} belongs to no organization.",
                                                  f"{person.name} 不屬於任何組織。"))
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
        raise not_found(LocalizedText("token", "權杖"))
    token.revoked_at = token.revoked_at or at
    session.flush()
    return token


def authenticate(session: Session, raw: str) -> Caller | None:
    """The caller of the live token ``raw``; None when it is unknown or revoked."""
    token = session.connection().execute(queries.live_token(), {"token_hash": hash_token(raw)}).first()
    if token is None:
        return None
    return Caller(token_id=token.id, name=token.name, role=Role(token.role), person_id=token.person_id,
                  organization_id=token.organization_id, scopes=frozenset(token.scopes), locale=token.locale)
