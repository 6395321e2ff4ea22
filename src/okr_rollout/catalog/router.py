"""/api/v1/playbooks: the playbooks this service knows, with their diagrams."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from okr_rollout.api.deps import CallerDep, CatalogDep
from okr_rollout.api.problems import COMMON_RESPONSES
from okr_rollout.errors import NotFound
from okr_rollout.playbooks import UnknownPlaybook
from okr_rollout.playbooks.diagram import mermaid

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
                                     title=latest.spec.title.model_dump(by_alias=True)))
    return PlaybookList(items=items)


@router.get("/{playbook_id}/versions/{version}", response_model=PlaybookVersionOut)
def get_playbook_version(playbook_id: str, version: int, caller: CallerDep, catalog: CatalogDep
                         ) -> PlaybookVersionOut:
    try:
        playbook = catalog.current(playbook_id, version)
    except UnknownPlaybook as unknown:
        raise NotFound(str(unknown)) from None
    spec = playbook.spec.model_dump(by_alias=True, mode="json")
    return PlaybookVersionOut(
        id=playbook.id, version=playbook.version, sha256=playbook.sha256, title=spec["title"],
        description=spec["description"], parameters=spec["parameters"], phases=spec["phases"],
        transitions=spec["transitions"], cadences=spec["cadences"], mermaid=mermaid(playbook.spec),
    )
