"""Who coaches an engagement, in its page: an administrator assigns a coach, hands over, or takes one off."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from okr_rollout.auth.caller import Role
from okr_rollout.coaches import service as coaches
from okr_rollout.coaches.schemas import CoachAssignment
from okr_rollout.errors import Unprocessable, field_error
from okr_rollout.texts import LocalizedText
from okr_rollout.web.context import FormDep, Web, WebDep, WebRoute, check_csrf, redirect

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def coaches_panel(web: Web, engagement_id: int) -> dict[str, Any]:
    """What the engagement page shows of its coaches, and (to an administrator) whom it may assign."""
    assigned = coaches.coaches_of(web.session, engagement_id)
    may_manage = web.caller.role == Role.admin
    taken = {c.id for c in assigned}
    return {"coaches": assigned, "may_manage_coaches": may_manage,
            "free_coaches": [c for c in coaches.all_coaches(web.session) if c.id not in taken] if may_manage else []}


def _number(value: object, field: str) -> int | None:
    text = str(value or "").strip()
    if not text:
        return None
    if not text.isdigit():
        message = LocalizedText("choose a coach", "請選擇一位教練")
        raise Unprocessable(LocalizedText(f"{field}: {message.en}", f"{field}:{message.zh_tw}"),
                            errors=[field_error(field, message, "unknown_coach")])
    return int(text)


@router.post("/engagements/{engagement_id}/coaches")
def assign_coach(web: WebDep, form: FormDep, engagement_id: int) -> Response:
    check_csrf(web, form)
    coach_id = _number(form.get("coach_id"), "coach_id")
    if coach_id is None:
        return redirect(web, f"/engagements/{engagement_id}#coaches")
    data = CoachAssignment(coach_id=coach_id, hand_over_from=_number(form.get("hand_over_from"), "hand_over_from"))
    coaches.assign(web.session, web.caller, engagement_id, data, web.now)
    return redirect(web, f"/engagements/{engagement_id}#coaches")


@router.post("/engagements/{engagement_id}/coaches/{coach_id}/unassign")
def unassign_coach(web: WebDep, form: FormDep, engagement_id: int, coach_id: int) -> Response:
    check_csrf(web, form)
    coaches.unassign(web.session, web.caller, engagement_id, coach_id, web.now)
    return redirect(web, f"/engagements/{engagement_id}#coaches")
