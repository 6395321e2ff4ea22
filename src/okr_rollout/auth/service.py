"""API tokens: created (shown once), stored as a hash, revoked. What a caller may see is in ``visibility``."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy.orm import Session

from okr_rollout.auth import queries
from okr_rollout.auth.caller import TRANSITIONS_SCOPE, Caller, Role
from okr_rollout.errors import Conflict, NotFound, Unprocessable, field_error, not_found
from okr_rollout.events import service as events
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
    at: datetime | None = None,
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
        **({"created_at": at} if at is not None else {}),
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


# --- tokens issued and revoked by an administrator over the API (and recorded in the history) -------------------

ISSUED, REVOKED = "token.issued", "token.revoked"


def require_admin(caller: Caller, path: str) -> None:
    """Only administrators manage tokens; to anyone else the resource does not exist."""
    if caller.role != Role.admin:
        raise NotFound(LocalizedText(f"There is nothing at {path}.", f"{path} 沒有任何資源。"))


def _refused(field: str, message: LocalizedText, rule: str) -> Unprocessable:
    return Unprocessable(LocalizedText(f"{field} {message.en}.", f"{field}:{message.zh_tw}。"),
                         errors=[field_error(field, message, rule)])


def _check_holder(session: Session, role: Role, person_id: int | None, scopes: list[str]) -> None:
    """What the API refuses, field by field, before a token is made: who it acts as, and what it may do."""
    if role == Role.integration:
        if person_id is not None:
            raise _refused("body.person_id", LocalizedText("must be left out: an integration's token acts as no person",
                                                           "必須省略:系統整合的權杖不代表任何人員"), "no_person")
        return
    if scopes:
        raise _refused("body.scopes", LocalizedText(
            f"must be empty: a scope widens an integration's token only (a coach moves engagements without "
            f"{TRANSITIONS_SCOPE})", f"必須為空:範圍只適用於系統整合的權杖(教練不需 {TRANSITIONS_SCOPE} 即可推進)"),
            "scope_of_integration")
    if person_id is None:
        raise _refused("body.person_id", LocalizedText("is required: a coach's token acts as that coach",
                                                       "為必填:教練的權杖代表該名教練"), "missing")
    person = session.get(Person, person_id)
    wanted = "coach" if role == Role.coach else "internal_coach"
    if person is None or wanted not in person.roles or (role == Role.internal_coach and person.organization_id is None):
        what = (LocalizedText("names no coach of the firm", "不是本公司的教練") if role == Role.coach
                else LocalizedText("names no internal coach of a client organization", "不是客戶組織的內部教練"))
        raise _refused("body.person_id", what, "unknown_person")


def issue_token(session: Session, caller: Caller, *, role: Role, name: str, person_id: int | None,
                scopes: list[str], now: datetime) -> tuple[str, ApiToken]:
    """A new token for an integration or a coach, issued by an administrator: checked field by field, made as the
    command line makes it (shown once, stored hashed), and recorded in the history, without its secret."""
    _check_holder(session, role, person_id, scopes)
    raw, token = create_token(session, role=role, name=name, person_id=person_id, scopes=scopes, at=now)
    record_issued(session, token, actor=caller.actor, at=now)
    return raw, token


def record_issued(session: Session, token: ApiToken, *, actor: str, at: datetime) -> None:
    events.append(session, type=ISSUED, actor=actor, at=at, organization_id=token.organization_id,
                  payload={"token_id": token.id, "name": token.name, "role": token.role, "person_id": token.person_id,
                           "scopes": list(token.scopes), "prefix": token.prefix})


def get_token(session: Session, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise not_found(LocalizedText("token", "權杖"))
    return token


def list_tokens(session: Session, *, after: int, limit: int) -> list[ApiToken]:
    return list(session.scalars(queries.tokens_page(after=after, limit=limit)))


def revoke(session: Session, token_id: int, now: datetime, *, actor: str, by_token_id: int | None = None
           ) -> ApiToken:
    """Revoke a token (it stops working at once) and record it; revoking it again changes and records nothing.
    ``by_token_id``: the token of the request, which may not revoke itself (its administrator would be locked
    out of the API mid-session; another admin token or the command line does it)."""
    token = get_token(session, token_id)
    if token.id == by_token_id and token.revoked_at is None:
        raise Conflict(LocalizedText(
            "This is the token of this very request: revoke it with another administrator's token, or on the "
            "server with okr-rollout token revoke.",
            "這正是本次請求所用的權杖:請以另一個管理員權杖撤銷,或在伺服器上執行 okr-rollout token revoke。"))
    if token.revoked_at is None:
        revoke_token(session, token_id, now)
        record_revoked(session, token, actor=actor, at=now)
    return token


def record_revoked(session: Session, token: ApiToken, *, actor: str, at: datetime) -> None:
    events.append(session, type=REVOKED, actor=actor, at=at, organization_id=token.organization_id,
                  payload={"token_id": token.id, "name": token.name, "role": token.role, "prefix": token.prefix})
