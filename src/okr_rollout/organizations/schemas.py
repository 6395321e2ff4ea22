"""API shapes of organizations, people and departments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator

from okr_rollout.api.fields import OneLine, may_be_left_out

PersonRole = Literal["ceo", "executive", "department_lead", "member", "internal_coach", "okr_master"]
Text = Annotated[str, Field(max_length=5000)]
Name = Annotated[OneLine, Field(min_length=1, max_length=200)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_timezone(value: str | None) -> str | None:
    if value is not None and value not in available_timezones():
        raise ValueError(f"unknown IANA timezone {value!r} (e.g. Asia/Taipei)")
    return value


CrmId = Annotated[str, Field(min_length=1, max_length=200, description=(
    "The id your CRM knows this organization by (unique). Set and changed only by an administrator or an "
    "integration (else 422 naming body.crm_id); an id already in use answers 409 without saying by whom."))]


class OrganizationCreate(_Input):
    name: Name
    headcount: Annotated[int, Field(ge=1, le=10_000_000)]
    timezone: str = "UTC"
    crm_id: CrmId | None = None
    mission: Text | None = None
    vision_1y: Text | None = None
    vision_5y: Text | None = None
    vision_10y: Text | None = None
    strategies: Annotated[list[Text], Field(max_length=50)] = []
    challenges: Annotated[list[Text], Field(max_length=50)] = []
    okr_software: Annotated[str, Field(max_length=200)] | None = None

    _timezone = field_validator("timezone")(_check_timezone)


class OrganizationUpdate(_Input):
    name: Name | None = may_be_left_out()
    headcount: Annotated[int, Field(ge=1, le=10_000_000)] | None = may_be_left_out()
    timezone: str | None = may_be_left_out()
    crm_id: CrmId | None = None
    mission: Text | None = None
    vision_1y: Text | None = None
    vision_5y: Text | None = None
    vision_10y: Text | None = None
    strategies: Annotated[list[Text], Field(max_length=50)] | None = may_be_left_out()
    challenges: Annotated[list[Text], Field(max_length=50)] | None = may_be_left_out()
    okr_software: Annotated[str, Field(max_length=200)] | None = None

    _timezone = field_validator("timezone")(_check_timezone)


class OrganizationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    headcount: int
    timezone: str
    crm_id: str | None
    mission: str | None
    vision_1y: str | None
    vision_5y: str | None
    vision_10y: str | None
    strategies: list[str]
    challenges: list[str]
    okr_software: str | None
    created_at: datetime
    updated_at: datetime
    version: int


class PersonCreate(_Input):
    name: Name
    email: Annotated[str, Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    roles: Annotated[list[PersonRole], Field(max_length=6)] = ["member"]
    department_ids: Annotated[list[int], Field(max_length=50)] = []
    locale: Literal["en", "zh-TW"] = "en"


class PersonUpdate(_Input):
    name: Name | None = may_be_left_out()
    email: Annotated[str, Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    roles: Annotated[list[PersonRole], Field(max_length=6)] | None = may_be_left_out()
    department_ids: Annotated[list[int], Field(max_length=50)] | None = may_be_left_out()
    locale: Literal["en", "zh-TW"] | None = may_be_left_out()


class PersonOut(BaseModel):
    id: int
    organization_id: int | None
    name: str
    email: str | None
    roles: list[str]
    department_ids: list[int]
    locale: str
    version: int


class DepartmentCreate(_Input):
    name: Name
    is_pilot: bool = False
    lead_id: int | None = None


class DepartmentUpdate(_Input):
    name: Name | None = may_be_left_out()
    is_pilot: bool | None = may_be_left_out()
    lead_id: int | None = None


class DepartmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    organization_id: int
    name: str
    is_pilot: bool
    lead_id: int | None
    version: int
