"""The API shapes of CSV imports: the outcome of an import, and a background import job."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from okr_rollout.imports.service import ImportResult
from okr_rollout.models import ImportJob


class ImportOut(BaseModel):
    kind: str
    rows: int
    created: int
    updated: int
    unchanged: int
    departments_created: list[str]
    ids: list[int]

    @classmethod
    def of(cls, result: ImportResult) -> ImportOut:
        return cls(kind=result.kind, rows=result.rows, created=result.created, updated=result.updated,
                   unchanged=result.unchanged, departments_created=result.departments_created, ids=result.ids)


class ImportJobOut(BaseModel):
    id: int
    kind: str
    status: Literal["queued", "running", "succeeded", "failed"]
    organization_id: int
    engagement_id: int | None
    rows_total: int = Field(description="Rows of the file (blank lines aside).")
    rows_done: int = Field(description="Rows written so far: a running import is visible as far as it got.")
    errors: list[dict[str, Any]] = Field(description="When the file was refused: every bad row, its column and "
                                                     "the rule, as a 422 lists them. Nothing was written.")
    detail: str | None = Field(description="Why the job failed.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: ImportOut | None = Field(description="Once succeeded: what a small import answers at once.")

    @classmethod
    def of(cls, job: ImportJob) -> ImportJobOut:
        result = None
        if job.status == "succeeded":
            result = ImportOut(kind=job.kind, rows=job.rows_total, created=job.created, updated=job.updated,
                               unchanged=job.unchanged, departments_created=job.departments_created, ids=job.ids)
        return cls(id=job.id, kind=job.kind, status=job.status,
                   organization_id=job.organization_id, engagement_id=job.engagement_id, rows_total=job.rows_total,
                   rows_done=job.rows_done, errors=job.errors, detail=job.detail, created_at=job.created_at,
                   started_at=job.started_at, finished_at=job.finished_at, result=result)
