"""API shapes of API tokens, as an administrator issues, lists and revokes them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from okr_rollout.api.fields import OneLine

# Who a token issued over the API acts as. An administrator's token is issued on the server only
# (`okr-rollout token create --role admin`): a leaked admin token must not be able to mint more of itself.
IssuedRole = Literal["integration", "coach", "internal_coach"]
Scope = Literal["transitions"]


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: IssuedRole = Field(description="integration (a CRM), coach (one of the firm's coaches) or internal_coach "
                                         "(a client's internal coach). Admin tokens are issued on the server only.")
    name: Annotated[OneLine, Field(min_length=1, max_length=200, description="To recognise the token by (e.g. crm).",
                                   examples=["crm"])]
    person_id: int | None = Field(None, description="The person the token acts as: required for coach and "
                                                    "internal_coach, refused for integration.")
    scopes: Annotated[list[Scope], Field(max_length=5, description=(
        '"transitions" lets an integration move engagements through their phases (coaches always may).'))] = []


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    role: str
    person_id: int | None
    organization_id: int | None = Field(description="An internal coach's organization.")
    scopes: list[str]
    prefix: str = Field(description="The token's first characters, to recognise it by; never the whole token.")
    created_at: datetime
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The bearer token. Shown in this response only (it is stored hashed): keep it "
                                   "now.")
