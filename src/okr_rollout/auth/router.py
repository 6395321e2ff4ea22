"""/api/v1/tokens: administrators issue, list and revoke API tokens (404 to anyone else)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from okr_rollout.api.deps import CallerDep, Cursor, Limit, NowDep, SessionDep
from okr_rollout.api.middleware import carries_secret
from okr_rollout.api.pagination import Page
from okr_rollout.api.problems import COMMON_RESPONSES, WRITE_RESPONSES
from okr_rollout.auth import service
from okr_rollout.auth.caller import Caller, Role
from okr_rollout.auth.schemas import TokenCreate, TokenCreated, TokenOut

PREFIX = "/api/v1/tokens"
router = APIRouter(prefix=PREFIX, tags=["tokens"], responses={**COMMON_RESPONSES, **WRITE_RESPONSES})


def administrator(request: Request, caller: CallerDep) -> Caller:
    service.require_admin(caller, request.url.path)
    return caller


AdminDep = Annotated[Caller, Depends(administrator)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TokenCreated)
def issue_token(data: TokenCreate, session: SessionDep, caller: AdminDep, now: NowDep,
                response: Response) -> TokenCreated:
    """Issue a token for an integration or a coach. The token is in this answer only (stored hashed); a retry
    with the same Idempotency-Key answers 409 secret-shown-once rather than showing it again."""
    raw, token = service.issue_token(session, caller, role=Role(data.role), name=data.name,
                                     person_id=data.person_id, scopes=list(data.scopes), now=now)
    response.headers["Location"] = f"{PREFIX}/{token.id}"
    carries_secret(response.headers)
    return TokenCreated(**TokenOut.model_validate(token).model_dump(), token=raw)


@router.get("", response_model=Page[TokenOut])
def list_tokens(session: SessionDep, _caller: AdminDep, cursor: Cursor, limit: Limit = 50) -> Page[TokenOut]:
    """Every token, revoked ones too, oldest first; never a token's secret."""
    rows = service.list_tokens(session, after=cursor.after, limit=limit)
    return cursor.page([TokenOut.model_validate(t) for t in rows], [t.id for t in rows], limit)


@router.get("/{token_id}", response_model=TokenOut)
def get_token(token_id: int, session: SessionDep, _caller: AdminDep) -> TokenOut:
    return TokenOut.model_validate(service.get_token(session, token_id))


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: int, session: SessionDep, caller: AdminDep, now: NowDep) -> Response:
    """Revoke a token: its next request is 401. Revoking a revoked token changes nothing; the token of the request
    itself is not revoked here (409)."""
    service.revoke(session, token_id, now, actor=caller.actor, by_token_id=caller.token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
