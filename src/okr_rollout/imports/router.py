"""POST /api/v1/organizations/{id}/imports: a CSV file of people or of OKRs, all or nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from okr_rollout.api.deps import CallerDep, NowDep, SessionDep
from okr_rollout.api.problems import COMMON_RESPONSES, WRITE_RESPONSES, problem_response
from okr_rollout.auth.visibility import visible_organization
from okr_rollout.errors import UnsupportedMediaType
from okr_rollout.imports import service
from okr_rollout.imports.service import ImportKind

router = APIRouter(prefix="/api/v1/organizations", tags=["imports"], responses={**COMMON_RESPONSES, **WRITE_RESPONSES})

CSV_TYPES = ("text/csv", "application/csv", "text/plain", "application/octet-stream")


class ImportOut(BaseModel):
    kind: str
    rows: int
    created: int
    updated: int
    unchanged: int
    departments_created: list[str]
    ids: list[int]


async def csv_body(request: Request) -> bytes:
    media_type = request.headers.get("content-type", "text/csv").split(";")[0].strip().lower()
    if media_type not in CSV_TYPES:
        raise UnsupportedMediaType(f"send the file as text/csv, not {media_type}")
    return await request.body()


CsvBody = Annotated[bytes, Depends(csv_body)]
KindQuery = Annotated[ImportKind, Query(description="people or okrs")]
EngagementQuery = Annotated[int | None, Query(description="For okrs, when the organization has several engagements.")]


@router.post(
    "/{organization_id}/imports", response_model=ImportOut,
    responses={415: problem_response(415, "The body is not sent as text/csv")},
    openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}},
    description=(
        "Import a CSV file (UTF-8, with or without BOM). `kind=people`: columns name, email, department, role "
        "(several values separated by ';'). `kind=okrs`: one row per key result with columns quarter, department, "
        "owner (name or e-mail), objective, key_result, start, target, current, unit. Headers may also be in "
        "Traditional Chinese. Any bad row rejects the whole file (422 listing every row, column and reason); "
        "rows that already exist are left unchanged, so importing the same file twice changes nothing."
    ),
)
def import_csv(organization_id: int, content: CsvBody, session: SessionDep, caller: CallerDep, now: NowDep,
               kind: KindQuery, engagement_id: EngagementQuery = None) -> ImportOut:
    organization = visible_organization(session, caller, organization_id)
    if kind == "people":
        result = service.import_people(session, organization, content, caller.actor, now)
    else:
        engagement = service.engagement_for_okrs(session, caller, organization.id, engagement_id)
        result = service.import_okrs(session, engagement, content, caller.actor, now)
    return ImportOut(kind=result.kind, rows=result.rows, created=result.created, updated=result.updated,
                     unchanged=result.unchanged, departments_created=result.departments_created, ids=result.ids)
