"""The client's people in the pages: a coach sends sign-in links (e-mailed, and shown once to print or pass on);
a person opens theirs, and works on their own page (``/me``), phone first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fastapi import APIRouter, Response

from okr_rollout.clients import links, pulses
from okr_rollout.clients import service as clients
from okr_rollout.errors import not_found
from okr_rollout.records.context import invalid
from okr_rollout.texts import LocalizedText
from okr_rollout.users import service as users
from okr_rollout.web.context import (
    SESSION_COOKIE,
    FormDep,
    Web,
    WebDep,
    WebRoute,
    check_csrf,
    page,
    redirect,
    session_lifetime,
)

if TYPE_CHECKING:
    from starlette.datastructures import FormData

router = APIRouter(route_class=WebRoute, include_in_schema=False)
SAVED = ("check_in", "task", "support", "meeting", "pulse")


# --- the coach's side --------------------------------------------------------------------------------------------


def _links_page(web: Web, engagement_id: int, status: int = 200, issued: links.IssuedLink | None = None
                ) -> Response:
    people = links.people_to_invite(web.session, web.caller, engagement_id)
    rows = links.links_of(web.session, web.caller, engagement_id, web.now)
    return page(web, "client_links.html", status=status, engagement_id=engagement_id, people=people, rows=rows,
                issued=issued, link_days=web.settings.client_link_days)


@router.get("/engagements/{engagement_id}/links")
def links_page(web: WebDep, engagement_id: int) -> Response:
    return _links_page(web, engagement_id)


@router.post("/engagements/{engagement_id}/links")
def send_link(web: WebDep, form: FormDep, engagement_id: int) -> Response:
    """A new link: e-mailed to the person, and shown on this page once (it is stored hashed) to print."""
    check_csrf(web, form)
    issued = links.issue_link(web.session, web.caller, web.settings, engagement_id, _int(form, "person_id"), web.now)
    return _links_page(web, engagement_id, status=201, issued=issued)


@router.post("/engagements/{engagement_id}/links/{link_id}/revoke")
def revoke_link(web: WebDep, form: FormDep, engagement_id: int, link_id: int) -> Response:
    check_csrf(web, form)
    links.revoke_link(web.session, web.caller, engagement_id, link_id, web.now)
    return redirect(web, f"/engagements/{engagement_id}/links#link-{link_id}")


# --- the client's side -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefusalText:
    title: LocalizedText
    body: LocalizedText


# Shown in the reader's language and then in the other one: who opens a link may not have signed in before.
ASK = LocalizedText("Ask your coach for a new link.", "請向您的教練索取新的連結。")
REFUSALS: dict[str, RefusalText] = {
    "used": RefusalText(LocalizedText("This sign-in link was already used", "此登入連結已使用過"),
                        LocalizedText(f"A link works once, and this one has signed someone in. {ASK.en}",
                                      f"每個連結只能使用一次,此連結已用於登入。{ASK.zh_tw}")),
    "expired": RefusalText(LocalizedText("This sign-in link has expired", "此登入連結已過期"),
                           LocalizedText(f"A link works for a few days only, and this one is past its date. {ASK.en}",
                                         f"連結只在數天內有效,此連結已超過期限。{ASK.zh_tw}")),
    "revoked": RefusalText(LocalizedText("This sign-in link was withdrawn", "此登入連結已被撤銷"),
                           LocalizedText(f"Your coach withdrew this link; it no longer signs anyone in. {ASK.en}",
                                         f"您的教練已撤銷此連結,它已無法用於登入。{ASK.zh_tw}")),
    "unknown": RefusalText(LocalizedText("This sign-in link is not valid", "此登入連結無效"),
                           LocalizedText(f"No link like this one was ever sent; check that it was copied whole. "
                                         f"{ASK.en}",
                                         f"從未寄出這樣的連結;請確認連結已完整複製。{ASK.zh_tw}")),
    "throttled": RefusalText(LocalizedText("Too many sign-in links tried", "嘗試的登入連結過多"),
                             LocalizedText("Too many links that do not work were opened from your network. Wait a "
                                           "little, then open your link again.",
                                           "您的網路開啟了過多無效的連結。請稍候,再重新開啟您的連結。")),
}


def _refused(web: Web, refusal: links.Refusal, retry_after: int = 0) -> Response:
    status = {"unknown": 404, "throttled": 429}.get(refusal, 410)
    response = page(web, "link_refused.html", status=status, refusal=refusal, retry_after=retry_after,
                    refusal_texts=REFUSALS)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@router.get("/link/{token}")
def open_link(web: WebDep, token: str) -> Response:
    """The link's landing page: one button signs in (a mail scanner fetching the link uses nothing up)."""
    opened = links.look_up(web.session, token, web.now)
    if opened.refusal is not None or opened.person is None:
        return _refused(web, opened.refusal or "unknown")
    return page(web, "link_open.html", token=token, invited=opened.person)


@router.post("/link/{token}")
def use_link(web: WebDep, form: FormDep, token: str) -> Response:
    check_csrf(web, form)
    opened, user = links.redeem(web.session, token, web.client_address, web.settings, web.now)
    if user is None:
        return _refused(web, opened.refusal or "unknown", opened.retry_after)
    lifetime = session_lifetime(web.settings)
    session_token = users.start_session(web.session, user, web.now, lifetime)
    web.user = user
    web.set_cookie(SESSION_COOKIE, session_token, int(lifetime.total_seconds()))
    return redirect(web, "/me")


@router.get("/me")
def my_page(web: WebDep, saved: str | None = None) -> Response:
    view = clients.my_page(web.session, web.caller, web.catalog, web.now)
    return page(web, "client.html", view=view, saved=saved if saved in SAVED else None)


@router.post("/me/check-ins")
def check_in(web: WebDep, form: FormDep) -> Response:
    check_csrf(web, form)
    confidence = str(form.get("confidence") or "").strip()
    clients.check_in(web.session, web.caller, web.catalog, web.now, key_result_id=_int(form, "key_result_id"),
                     value=_number(form, "value"), confidence=_number(form, "confidence") if confidence else None,
                     note=str(form.get("note") or ""))
    return redirect(web, "/me?saved=check_in#key-results")


@router.post("/me/tasks/{task_id}/done")
def mark_done(web: WebDep, form: FormDep, task_id: int) -> Response:
    check_csrf(web, form)
    clients.mark_task(web.session, web.caller, task_id, form.get("done") == "1", web.now)
    return redirect(web, "/me?saved=task#tasks")


@router.post("/me/tasks/{task_id}/checklist/{item_id}")
def check_item(web: WebDep, form: FormDep, task_id: int, item_id: int) -> Response:
    check_csrf(web, form)
    clients.check_item(web.session, web.caller, task_id, item_id, form.get("checked") == "1", web.now)
    return redirect(web, f"/me#task-{task_id}")


@router.post("/me/support")
def confirm_support(web: WebDep, form: FormDep) -> Response:
    check_csrf(web, form)
    clients.confirm_support(web.session, web.caller, web.catalog, web.now, level=str(form.get("level") or ""),
                            note=str(form.get("note") or ""))
    return redirect(web, "/me?saved=support#support")


@router.post("/me/meetings")
def record_meeting(web: WebDep, form: FormDep) -> Response:
    check_csrf(web, form)
    member = str(form.get("member_id") or "").strip()
    clients.record_meeting(web.session, web.caller, web.catalog, web.now, kind=str(form.get("kind") or ""),
                           department_id=_int(form, "department_id"),
                           member_id=_int(form, "member_id") if member else None, notes=str(form.get("notes") or ""))
    return redirect(web, "/me?saved=meeting#meetings")


@router.post("/me/pulses/{pulse_id}")
def answer_my_pulse(web: WebDep, form: FormDep, pulse_id: int) -> Response:
    check_csrf(web, form)
    clients.answer_pulse(web.session, web.caller, pulse_id, _rating(form), str(form.get("comment") or ""), web.now)
    return redirect(web, "/me?saved=pulse#pulses")


@router.get("/pulse/{token}")
def pulse_page(web: WebDep, token: str) -> Response:
    """A pulse's own link: rate the milestone without signing in."""
    pulse = pulses.pulse_with_token(web.session, token)
    return page(web, "pulse.html", token=token, pulse=pulse, title=pulses.milestone_title(pulse.milestone),
                answered=pulse.answered_at is not None)


@router.post("/pulse/{token}")
def answer_pulse(web: WebDep, form: FormDep, token: str) -> Response:
    check_csrf(web, form)
    pulse = pulses.pulse_with_token(web.session, token)
    if pulse.answered_at is None:
        pulses.answer_by_token(web.session, token, _rating(form), str(form.get("comment") or ""), web.now)
    return page(web, "pulse.html", token=token, pulse=pulse, title=pulses.milestone_title(pulse.milestone),
                answered=True)


def _rating(form: FormData) -> int:
    try:
        return int(str(form.get("rating") or ""))
    except ValueError:
        raise invalid("rating", LocalizedText("choose a rating from 1 to 5", "請選擇 1 至 5 分"), "rating_scale"
                      ) from None


def _int(form: FormData, name: str) -> int:
    try:
        return int(str(form.get(name) or ""))
    except ValueError:
        raise not_found(LocalizedText("choice", "選項")) from None


def _number(form: FormData, name: str) -> float:
    text = str(form.get(name) or "").strip().replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        raise invalid(name, LocalizedText("is not a number", "不是數字"), "number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise invalid(name, LocalizedText("is not a number", "不是數字"), "number")
    return value
