"""API shapes of quarters, OKRs, key results, check-ins and the quarter review."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from okr_rollout.api.fields import BoundedDate, OneLine
from okr_rollout.records.correction_schemas import Voided

Text = Annotated[str, Field(min_length=1, max_length=2000)]
Finite = Annotated[float, Field(allow_inf_nan=False)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class QuarterCreate(_Input):
    label: Annotated[OneLine, Field(min_length=1, max_length=32)]
    starts_on: BoundedDate
    ends_on: BoundedDate
    recorded_on: BoundedDate | None = Field(
        None, description="The day the quarter was set up, when not today (a client taken on mid-journey); not in "
                          "the future. OKRs carried into it count as prepared on that day.")


class QuarterOut(_Output, Voided):
    id: int
    engagement_id: int
    label: str
    starts_on: date
    ends_on: date
    closed_at: datetime | None = Field(
        None, description="Set once every OKR of the quarter is decided: its OKRs, key results, scores and decisions "
                          "no longer change until the quarter is reopened.")
    next_quarter_due_on: date | None = Field(
        description="Quarter end plus the playbook's limit: the next quarter must be prepared by then.")
    recorded_on: date | None = Field(None, description="The day the quarter was set up, as recorded; null: created_at.")
    created_at: datetime
    version: int
    carried_over_okr_ids: list[int] = Field(
        default=[], description="OKRs carried into this quarter when it was created (POST only).")


class KeyResultCreate(_Input):
    metric: Text
    start: Finite
    target: Finite
    current: Finite | None = Field(None, description="Defaults to start.")
    unit: Annotated[str, Field(max_length=32)] = ""


class KeyResultOut(Voided):
    id: int
    okr_id: int
    metric: str
    start: float
    target: float
    current: float
    unit: str
    carried_from_id: int | None
    version: int


class OkrCreate(_Input):
    objective: Text
    owner_id: int | None = None
    department_id: int | None = None
    key_results: Annotated[list[KeyResultCreate], Field(max_length=20)] = []
    prepared_on: BoundedDate | None = Field(
        None, description="The day the OKR was prepared, when not today (a client taken on mid-journey); not in the "
                          "future. The next-quarter deadline is judged on it.")


class OkrOut(Voided):
    id: int
    engagement_id: int
    quarter_id: int
    objective: str
    owner_id: int | None
    department_id: int | None
    score: float | None
    decision: str | None
    carried_from_id: int | None
    carried_to_id: int | None
    key_results: list[KeyResultOut]
    prepared_on: date | None = Field(None, description="The day it was prepared, as recorded; null: created_at.")
    decided_on: date | None = Field(None, description="The day of its decision, as recorded; null: decided then.")
    created_at: datetime
    version: int
    warnings: list[str] = Field(default=[], description="Rules the playbook only warns about (POST only).")


class ScoreUpdate(_Input):
    score: Finite


class DecisionUpdate(_Input):
    decision: Annotated[str, Field(min_length=1, max_length=32)]
    recorded_on: BoundedDate | None = Field(
        None, description="The day leadership decided, when not today; not in the future. An OKR carried on by "
                          "this decision counts as prepared on that day.")


class DecisionOut(BaseModel):
    okr: OkrOut
    carried_to: OkrOut | None = Field(None, description="The OKR's continuation in the next quarter, if any.")


class CheckInCreate(_Input):
    key_result_id: int
    week_of: BoundedDate
    value: Finite
    confidence: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    note: Annotated[str, Field(max_length=10_000)] = ""
    author_id: int | None = None


class CheckInOut(_Output, Voided):
    id: int
    key_result_id: int
    week_of: date
    value: float
    confidence: float | None
    note: str
    author_id: int | None
    created_at: datetime
    version: int


class ScoreDistribution(BaseModel):
    red: int = 0
    yellow: int = 0
    green: int = 0


class GroupSummary(BaseModel):
    okrs: int
    scored: int
    average_score: float | None
    check_in_rate: float | None = Field(description="Check-in periods covered / periods elapsed × key results.")
    undecided_okr_ids: list[int]
    distribution: ScoreDistribution | None
    in_stretch_sweet_spot: int | None


class DepartmentSummary(GroupSummary):
    department_id: int | None
    name: str | None
    possibly_sandbagging: bool = Field(description="Average above the playbook's sandbagging threshold.")


class PersonSummary(GroupSummary):
    person_id: int | None
    name: str | None


class KeyResultHistory(BaseModel):
    key_result_id: int
    okr_id: int
    metric: str
    unit: str
    start: float
    target: float
    current: float
    check_ins: list[CheckInOut]


class BandsOut(BaseModel):
    yellow_from: float
    green_from: float
    stretch_sweet_spot: list[float] | None
    sandbagging_above: float | None


class QuarterReview(BaseModel):
    quarter: QuarterOut
    next_quarter_due_on: date | None
    days_until_due: int | None
    bands: BandsOut | None
    overall: GroupSummary
    departments: list[DepartmentSummary]
    people: list[PersonSummary]
    key_results: list[KeyResultHistory]
