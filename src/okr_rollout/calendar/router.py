"""Calendar feeds: /api/v1/engagements/{id}/calendar.ics, the person feed's secret URL, and the feed itself."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Response, status

from okr_rollout.api.deps import CallerDep, CatalogDep, NowDep, SessionDep, get_settings_dep
from okr_rollout.api.middleware import carries_secret
from okr_rollout.api.problems import COMMON_RESPONSES, WRITE_RESPONSES, problem_response
from okr_rollout.calendar import service, texts
from okr_rollout.calendar.schemas import CalendarFeedOut
from okr_rollout.settings import Settings

CALENDAR_MEDIA_TYPE = "text/calendar; charset=utf-8"
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
Lang = Annotated[Literal["en", "zh-TW"] | None, Query(description="Language of the texts; else Accept-Language "
                                                                  "(engagement feed) or the person's locale.")]
_ICS: dict[int | str, dict[str, Any]] = {
    200: {"description": "An iCalendar (RFC 5545) document",
          "content": {"text/calendar": {"schema": {"type": "string"}}}},
}

router = APIRouter(tags=["calendar"])


def _ics(body: bytes, filename: str) -> Response:
    # private: a feed is one caller's view (or one person's secret); shared caches must not keep it.
    return Response(content=body, media_type=CALENDAR_MEDIA_TYPE, headers={
        "Content-Disposition": f'inline; filename="{filename}"', "Cache-Control": "private, no-cache"})


@router.get("/api/v1/engagements/{engagement_id}/calendar.ics", response_class=Response,
            responses={**COMMON_RESPONSES, **_ICS})
def engagement_calendar(engagement_id: int, session: SessionDep, caller: CallerDep, catalog: CatalogDep,
                        now: NowDep, lang: Lang = None,
                        accept_language: Annotated[str | None, Header()] = None) -> Response:
    """Meetings, training days, drafting windows, quarter ends, next-quarter deadlines and the recurring team
    meetings and 1:1s of Q1/Q2, in the organization's time zone."""
    locale = texts.negotiate_locale(lang, accept_language)
    body = service.engagement_calendar(session, caller, catalog, engagement_id, now, locale)
    return _ics(body, f"engagement-{engagement_id}.ics")


@router.post("/api/v1/organizations/{organization_id}/people/{person_id}/calendar-token",
             response_model=CalendarFeedOut, responses={**COMMON_RESPONSES, **WRITE_RESPONSES})
def issue_calendar_feed(organization_id: int, person_id: int, session: SessionDep, caller: CallerDep, now: NowDep,
                        settings: SettingsDep, response: Response) -> CalendarFeedOut:
    """Issue (or rotate) the person's secret feed URL; the previous URL stops working. The URL is shown in this
    answer only: a retry with the same Idempotency-Key answers 409 secret-shown-once."""
    issued = service.issue_feed(session, caller, organization_id, person_id, now, settings.public_url)
    carries_secret(response.headers)
    return CalendarFeedOut(person_id=issued.person_id, url=issued.url, webcal_url=issued.webcal_url,
                           rotated=issued.rotated, issued_at=issued.issued_at)


@router.delete("/api/v1/organizations/{organization_id}/people/{person_id}/calendar-token",
               status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               responses={**COMMON_RESPONSES, **WRITE_RESPONSES})
def revoke_calendar_feed(organization_id: int, person_id: int, session: SessionDep, caller: CallerDep,
                         now: NowDep) -> Response:
    """The person's feed URL stops working."""
    service.revoke_feed(session, caller, organization_id, person_id, now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/v1/calendar/{token}.ics", response_class=Response, responses={
    **_ICS, 404: problem_response(404, "No feed at this URL (unknown, revoked or rotated)"),
    422: COMMON_RESPONSES[422]})
def person_calendar(token: str, session: SessionDep, catalog: CatalogDep, now: NowDep, lang: Lang = None) -> Response:
    """A person's feed; no bearer token: the secret in the URL is the credential."""
    body = service.person_calendar(session, catalog, token, now, lang)
    return _ics(body, "okr-rollout.ics")
