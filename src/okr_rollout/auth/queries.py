"""Every statement about API tokens."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Table, bindparam, select

from okr_rollout.models import ApiToken, Person


def live_token() -> Select[Any]:
    """The token stored under ``token_hash`` (given at execution), unless it was revoked: what a caller is made
    of. Built once, on the table's columns: every API request runs it, and plain rows cost less than the ORM's."""
    return _LIVE_TOKEN


_TOKENS: Table = ApiToken.__table__  # type: ignore[assignment]
_PEOPLE: Table = Person.__table__  # type: ignore[assignment]
# The person's language comes along (a join on the primary key): problems and reasons are written in it when the
# request's Accept-Language names none.
_LIVE_TOKEN = select(*(_TOKENS.c[name] for name in ("id", "name", "role", "person_id", "organization_id", "scopes")),
                     _PEOPLE.c.locale
                     ).select_from(_TOKENS.outerjoin(_PEOPLE, _PEOPLE.c.id == _TOKENS.c.person_id)
                     ).where(_TOKENS.c.token_hash == bindparam("token_hash"), _TOKENS.c.revoked_at.is_(None))


def tokens_page(*, after: int, limit: int) -> Select[ApiToken]:
    """API tokens in the order they were created, revoked ones too, one more than ``limit`` (is there a next
    page?)."""
    return select(ApiToken).where(ApiToken.id > after).order_by(ApiToken.id).limit(limit + 1)
