"""POST /api/v1/organizations/{id}/imports: a CSV file of people or of OKRs, all or nothing; a large one runs as
a background job, GET /api/v1/imports/{job_id}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from okr_rollout.api.deps import BearerDep, CallerDep, NowDep, SessionDep, accept_caller, bearer_token
from okr_rollout.api.problems import COMMON_RESPONSES, WRITE_RESPONSES, problem_response
from okr_rollout.auth.caller import Caller
from okr_rollout.auth.service import authenticate
from okr_rollout.db import open_reader, unit_of_work
from okr_rollout.errors import UnsupportedMediaType
from okr_rollout.imports import service
from okr_rollout.imports.jobs import ImportRunner
from okr_rollout.imports.schemas import ImportJobOut, ImportOut
from okr_rollout.imports.service import ImportKind
from okr_rollout.texts import LocalizedText

router = APIRouter(prefix="/api/v1", tags=["imports"], responses={**COMMON_RESPONSES})

CSV_TYPES = ("text/csv", "application/csv", "text/plain", "application/octet-stream")


async def csv_body(request: Request) -> bytes:
    media_type = request.headers.get("content-type", "text/csv").split(";")[0].strip().lower()
    if media_type not in CSV_TYPES:
        raise UnsupportedMediaType(LocalizedText(f"Send the file as text/csv, not {media_type}.",
                                                 f"請以 text/csv 傳送檔案,而不是 {media_type}。"))
    return await request.body()


def reading_caller(request: Request, credentials: BearerDep) -> Caller:
    """The caller, found by a reader: an import reads and checks its file before it takes the write lock, which
    the request's writer session (``SessionDep`` of a POST) would hold from the start."""
    with unit_of_work(open_reader(request.app.state.session_factory)) as session:
        return accept_caller(request, authenticate(session, bearer_token(credentials)))


def import_runner(request: Request) -> ImportRunner:
    runner: ImportRunner = request.app.state.import_runner
    return runner


CsvBody = Annotated[bytes, Depends(csv_body)]
ReadingCallerDep = Annotated[Caller, Depends(reading_caller)]
RunnerDep = Annotated[ImportRunner, Depends(import_runner)]
KindQuery = Annotated[ImportKind, Query(description="people or okrs")]
EngagementQuery = Annotated[int | None, Query(description="For okrs, when the organization has several engagements.")]


@router.post(
    "/organizations/{organization_id}/imports", response_model=ImportOut,
    responses={**WRITE_RESPONSES, 202: {"model": ImportJobOut, "description": "A large file: the job importing it "
                                         "(its URL in Location)."},
               415: problem_response(415, "The body is not sent as text/csv")},
    openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}},
    description=(
        "Import a CSV file (UTF-8, with or without BOM). `kind=people`: columns name, email, department, role "
        "(several values separated by ';'). `kind=okrs`: one row per key result with columns quarter, department, "
        "owner (name or e-mail), objective, key_result, start, target, current, unit. Headers may also be in "
        "Traditional Chinese. The file must be strict CSV: a quote left open, a NUL character or a row with more "
        "or fewer cells than the header refuses it. Any bad row rejects the whole file (422 listing every row, "
        "column and reason); rows that already exist are left unchanged, so importing the same file twice changes "
        "nothing. A file of more rows than OKR_ROLLOUT_IMPORT_BACKGROUND_ROWS answers 202 with a job "
        "(`Location: /api/v1/imports/{job_id}`) that checks every row, then writes them in batches; GET it for "
        "its progress, the rows it refused, or its result."
    ),
)
def import_csv(organization_id: int, content: CsvBody, caller: ReadingCallerDep, runner: RunnerDep, now: NowDep,
               kind: KindQuery, engagement_id: EngagementQuery = None) -> ImportOut | JSONResponse:
    outcome = runner.import_file(caller, organization_id, kind, engagement_id, content, now)
    if isinstance(outcome, service.ImportResult):
        return ImportOut.of(outcome)
    return JSONResponse(ImportJobOut.of(outcome).model_dump(mode="json"), status_code=202,
                        headers={"Location": f"/api/v1/imports/{outcome.id}"})


@router.get("/imports/{job_id}", response_model=ImportJobOut,
            description="A background import: its status, rows done of rows total, the rows it refused, its result.")
def get_import(job_id: int, session: SessionDep, caller: CallerDep) -> ImportJobOut:
    return ImportJobOut.of(service.visible_job(session, caller, job_id))
