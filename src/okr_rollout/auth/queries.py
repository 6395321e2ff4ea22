"""Every statement about API tokens."""

from __future__ import annotations

from sqlalchemy import Select, select

from okr_rollout.models import ApiToken


def live_token(token_hash: str) -> Select[int, str, str, int | None, int | None, list[str]]:
    """The token stored under ``token_hash``, unless it was revoked: what a caller is made of."""
    return (select(ApiToken.id, ApiToken.name, ApiToken.role, ApiToken.person_id, ApiToken.organization_id,
                   ApiToken.scopes)
            .where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None)))
