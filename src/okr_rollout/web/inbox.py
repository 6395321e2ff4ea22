"""A person's notifications (the inbox, mark read) and their delivery settings (how e-mail reaches them)."""

from __future__ import annotations

from zoneinfo import available_timezones

from fastapi import APIRouter, Response

from okr_rollout.notifications import inbox as notifications
from okr_rollout.notifications import preferences
from okr_rollout.web.context import FormDep, Web, WebDep, WebRoute, check_csrf, page, redirect, safe_next
from okr_rollout.web.paging import offset_param, page_links

router = APIRouter(route_class=WebRoute, include_in_schema=False)
OFFSET = "from"


def _person_id(web: Web) -> int | None:
    web.caller  # noqa: B018 - signed in, or redirected to the sign-in page
    return web.person.id if web.person is not None else None


@router.get("/inbox")
def inbox_page(web: WebDep) -> Response:
    person_id = _person_id(web)
    view = (notifications.inbox_view(web.session, person_id, offset_param(web.request, OFFSET),
                                     web.settings.page_size_default) if person_id is not None else None)
    return page(web, "inbox.html", view=view, page_url=page_links(web.request))


@router.post("/inbox/{notification_id}/read")
def mark_read(web: WebDep, form: FormDep, notification_id: int) -> Response:
    check_csrf(web, form)
    person_id = _person_id(web)
    if person_id is not None:
        notifications.mark_read(web.session, person_id, notification_id, web.now)
    return redirect(web, safe_next(str(form.get("next") or ""), "/inbox"))


@router.post("/inbox/read-all")
def mark_all_read(web: WebDep, form: FormDep) -> Response:
    check_csrf(web, form)
    person_id = _person_id(web)
    if person_id is not None:
        notifications.mark_all_read(web.session, person_id, web.now)
    return redirect(web, safe_next(str(form.get("next") or ""), "/inbox"))


@router.get("/settings")
def settings_page(web: WebDep, saved: bool = False) -> Response:
    person_id = _person_id(web)
    delivery = notifications.delivery_of(web.session, person_id) if person_id is not None else None
    own = web.person.timezone if web.person is not None else None
    return page(web, "settings.html", delivery=delivery, own_timezone=own or "", saved=saved,
                choices=preferences.CHOICES, hours=list(preferences.HOURS), timezones=_timezones())


@router.post("/settings")
def save_settings(web: WebDep, form: FormDep) -> Response:
    check_csrf(web, form)
    person_id = _person_id(web)
    if person_id is not None:
        notifications.set_delivery(web.session, person_id, str(form.get("email_digest") or ""),
                                   _hour(form.get("quiet_from_hour")), _hour(form.get("quiet_until_hour")),
                                   str(form.get("timezone") or "") or None)
    return redirect(web, "/settings?saved=true")


def _hour(value: object) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else (None if not text else -1)  # -1: refused by the service


def _timezones() -> list[str]:
    return sorted(name for name in available_timezones() if "/" in name and not name.startswith("Etc/"))
