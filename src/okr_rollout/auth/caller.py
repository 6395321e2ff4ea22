"""Who is calling, and what their role lets them see and do."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    admin = "admin"
    coach = "coach"
    internal_coach = "internal_coach"
    integration = "integration"
    # A person of a client organization, signed in by a link: sees their own page only.
    client = "client"


TRANSITIONS_SCOPE = "transitions"


@dataclass(frozen=True, slots=True)
class Caller:
    token_id: int
    name: str
    role: Role
    person_id: int | None = None
    organization_id: int | None = None
    scopes: frozenset[str] = frozenset()
    locale: str | None = None  # the language the token's person reads, when the token is a person's

    @property
    def actor(self) -> str:
        return f"{self.role.value}:{self.name}"

    @property
    def sees_all_organizations(self) -> bool:
        return self.role in (Role.admin, Role.integration)

    @property
    def may_create_organizations(self) -> bool:
        return self.role in (Role.admin, Role.integration)

    @property
    def may_fire_transitions(self) -> bool:
        if self.role in (Role.admin, Role.coach):
            return True
        return self.role == Role.integration and TRANSITIONS_SCOPE in self.scopes
