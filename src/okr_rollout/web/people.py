"""The people picker's search: the record forms ask for people by name as one types (a JSON list), instead of
rendering every person of the organization."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from okr_rollout.portfolio import engagement as engagement_views
from okr_rollout.web.context import WebDep, WebRoute

router = APIRouter(route_class=WebRoute, include_in_schema=False)
SUGGESTIONS = 10  # as many as a list under a text field shows at a glance


@router.get("/engagements/{engagement_id}/people/search")
def search_people(web: WebDep, engagement_id: int, q: str = Query("", max_length=200), coaches: bool = False
                  ) -> Response:
    found = engagement_views.search_people(web.session, web.caller, engagement_id, q, SUGGESTIONS,
                                           with_coaches=coaches)
    body = {"items": [{"id": p.id, "name": p.name} for p in found.people], "more": found.more}
    return web.apply(JSONResponse(body, headers={"Cache-Control": "no-store"}))
