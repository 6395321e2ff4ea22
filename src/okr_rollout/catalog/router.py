"""/api/v1/playbooks: the playbooks this service knows, with their diagrams, and what changed between versions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from okr_rollout.api.deps import CallerDep, CatalogDep, SessionDep
from okr_rollout.api.problems import COMMON_RESPONSES
from okr_rollout.errors import not_found
from okr_rollout.playbooks import UnknownPlaybook
from okr_rollout.playbooks.diagram import mermaid
from okr_rollout.texts import LocalizedText
from okr_rollout.versions.diff import diff_playbooks
from okr_rollout.versions.schemas import PlaybookDiffOut

router = APIRouter(prefix="/api/v1/playbooks", tags=["playbooks"], responses=COMMON_RESPONSES)


class PlaybookSummary(BaseModel):
    id: str
    versions: list[int]
    latest_version: int
    title: dict[str, str]


class PlaybookVersionOut(BaseModel):
    id: str
    version: int
    sha256: str
    title: dict[str, str]
    description: dict[str, str]
    parameters: dict[str, Any]
    phases: list[dict[str, Any]]
    transitions: list[dict[str, Any]]
    cadences: list[dict[str, Any]]
    mermaid: str


class PlaybookList(BaseModel):
    items: list[PlaybookSummary]
    next_cursor: str | None = None


@router.get("", response_model=PlaybookList)
def list_playbooks(caller: CallerDep, catalog: CatalogDep) -> PlaybookList:
    items = []
    for playbook_id in catalog.registry.ids():
        versions = catalog.registry.versions(playbook_id)
        latest = catalog.registry.get(playbook_id, versions[-1])
        items.append(PlaybookSummary(id=playbook_id, versions=versions, latest_version=versions[-1],
                                     title=latest.spec.title.as_dict()))
    return PlaybookList(items=items)


@router.get("/{playbook_id}/versions/{version}", response_model=PlaybookVersionOut)
def get_playbook_version(playbook_id: str, version: int, session: SessionDep, caller: CallerDep,
                         catalog: CatalogDep) -> PlaybookVersionOut:
    """A version from its file, or from the snapshot engagements are pinned to once its file is gone."""
    try:
        playbook = catalog.version(session, playbook_id, version)
    except UnknownPlaybook:
        raise not_found(LocalizedText("playbook version", "手冊版本")) from None
    spec = playbook.spec.model_dump(by_alias=True, mode="json")
    return PlaybookVersionOut(
        id=playbook.id, version=playbook.version, sha256=playbook.sha256, title=spec["title"],
        description=spec["description"], parameters=spec["parameters"], phases=spec["phases"],
        transitions=spec["transitions"], cadences=spec["cadences"], mermaid=mermaid(playbook.spec),
    )



@router.get("/{playbook_id}/diff", response_model=PlaybookDiffOut)
def diff_versions(playbook_id: str, session: SessionDep, caller: CallerDep, catalog: CatalogDep,
                  from_version: Annotated[int, Query(alias="from", ge=1, description="The older version.")],
                  to_version: Annotated[int, Query(alias="to", ge=1, description="The newer version.")],
                  ) -> PlaybookDiffOut:
    """Phases, tasks, checklist items, gate criteria, parameters and cadences added, removed and changed, in
    English and Traditional Chinese. A version whose file is gone is read from its pinned snapshot."""
    try:
        old = catalog.version(session, playbook_id, from_version)
        new = catalog.version(session, playbook_id, to_version)
    except UnknownPlaybook:
        raise not_found(LocalizedText("playbook version", "手冊版本")) from None
    return PlaybookDiffOut.of(diff_playbooks(old, new))
