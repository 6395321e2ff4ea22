"""The expansion waves on the engagement page: open a wave, move one (a refusal shown with its reasons), and hand
the engagement over to the internal coaches."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Response
from pydantic import ValidationError

from okr_rollout.db import rollback
from okr_rollout.errors import GateRefused, Unprocessable, field_error
from okr_rollout.texts import LocalizedText
from okr_rollout.waves import service as waves
from okr_rollout.waves.schemas import WaveCreate
from okr_rollout.web.context import FormDep, Web, WebDep, WebRoute, check_csrf, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def waves_panel(web: Web, engagement_id: int, refused_wave: int | None, refused_trigger: str | None
                ) -> dict[str, Any]:
    """What the engagement page shows of its waves; a refused move of one named by its wave and trigger."""
    panel = waves.panel(web.session, web.caller, web.catalog, engagement_id, web.now)
    refusal = None
    for row in panel.rows:
        if row.view.wave.id == refused_wave:
            refusal = next((t for t in row.readiness.transitions if t.trigger == refused_trigger and not t.allowed),
                           None)
    return {"waves": panel, "wave_refusal": refusal, "refused_wave": refused_wave}


def _ids(values: list[Any]) -> list[int]:
    return [int(v) for v in values if str(v).strip().isdigit()]


@router.post("/engagements/{engagement_id}/waves")
def open_wave(web: WebDep, form: FormDep, engagement_id: int) -> Response:
    check_csrf(web, form)
    try:
        data = WaveCreate(name=str(form.get("name") or ""), department_ids=_ids(form.getlist("department_ids")),
                          owner_ids=_ids(form.getlist("owner_ids")), variant=str(form.get("variant") or "") or None)
    except ValidationError as error:
        fields = sorted({str(e["loc"][0]) for e in error.errors() if e["loc"]})
        message = LocalizedText("name a wave, choose its departments and its internal coaches",
                                "請為梯次命名,並選擇其部門與內部教練")
        raise Unprocessable(message, errors=[field_error(field, message, "missing") for field in fields]) from None
    view = waves.open_wave(web.session, web.caller, web.catalog, engagement_id, data, web.now)
    return redirect(web, f"/engagements/{engagement_id}?{urlencode({'wave_opened': view.wave.id})}#wave-{view.wave.id}")


@router.post("/engagements/{engagement_id}/waves/{wave_id}/transitions")
def move_wave(web: WebDep, form: FormDep, engagement_id: int, wave_id: int) -> Response:
    check_csrf(web, form)
    trigger = str(form.get("trigger") or "")
    try:
        waves.fire_transition(web.session, web.caller, web.catalog, engagement_id, wave_id, trigger, web.now)
    except GateRefused:
        rollback(web.session)  # nothing kept; the refusal's history entry is written after the rollback
        query = urlencode({"wave_refused": wave_id, "wave_trigger": trigger})
        return redirect(web, f"/engagements/{engagement_id}?{query}#wave-{wave_id}")
    return redirect(web, f"/engagements/{engagement_id}#wave-{wave_id}")


@router.post("/engagements/{engagement_id}/handover")
def hand_over(web: WebDep, form: FormDep, engagement_id: int) -> Response:
    check_csrf(web, form)
    waves.hand_over(web.session, web.caller, web.catalog, engagement_id, web.now)
    return redirect(web, f"/engagements/{engagement_id}#waves")
