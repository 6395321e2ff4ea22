"""Calendar feeds: /api/v1/engagements/{id}/calendar.ics, the person feed's secret URL, and the feed itself."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Response, status

from okr_rollout.api.deps import CallerDep, CatalogDep, NowDep, SessionDep, get_settings_dep
from okr_rollout.api.middleware import carries_secret
from okr_rollout.api.problems import COMMON_RESPONSES, WRITE_RESPONSES, problem_response
from okr_rollout.calendar import service, texts
from okr_rollout.calendar.schemas import CalendarFeedList, CalendarFeedListed, CalendarFeedOut
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


_PERSON = "/api/v1/organizations/{organization_id}/people/{person_id}"
_FEED_KEEPERS = ("Only the person, an internal coach of their organization or an administrator; anyone else "
                 "gets 404. The URL is shown in this answer only: a retry with the same Idempotency-Key answers "
                 "409 secret-shown-once.")


def _issue(organization_id: int, person_id: int, session: SessionDep, caller: CallerDep, now: NowDep,
           settings: SettingsDep, response: Response) -> CalendarFeedOut:
    issued = service.issue_feed(session, caller, organization_id, person_id, now, settings.public_url)
    carries_secret(response.headers)
    return CalendarFeedOut(id=issued.id, person_id=issued.person_id, url=issued.url, webcal_url=issued.webcal_url,
                           issued_at=issued.issued_at)


router.add_api_route(
    _PERSON + "/calendar-tokens", _issue, methods=["POST"], response_model=CalendarFeedOut,
    responses={**COMMON_RESPONSES, **WRITE_RESPONSES}, operation_id="issue_calendar_feed",
    summary="Issue calendar feed",
    description="A new secret feed URL for the person; the feeds issued before keep working. " + _FEED_KEEPERS)
router.add_api_route(
    _PERSON + "/calendar-token", _issue, methods=["POST"], response_model=CalendarFeedOut,
    responses={**COMMON_RESPONSES, **WRITE_RESPONSES}, operation_id="issue_calendar_feed_singular",
    summary="Issue calendar feed (former path)",
    description="The same as POST …/calendar-tokens, kept for the clients written against it.")


@router.get(_PERSON + "/calendar-tokens", response_model=CalendarFeedList, responses=COMMON_RESPONSES)
def list_calendar_feeds(organization_id: int, person_id: int, session: SessionDep,
                        caller: CallerDep) -> CalendarFeedList:
    """The person's live feeds: their ids and when each was issued (their secrets are not kept)."""
    feeds = service.feeds_of(session, caller, organization_id, person_id)
    return CalendarFeedList(items=[CalendarFeedListed(id=f.id, person_id=f.person_id, issued_at=f.created_at)
                                   for f in feeds])


@router.delete(_PERSON + "/calendar-tokens/{feed_id}", status_code=status.HTTP_204_NO_CONTENT,
               response_class=Response, responses={**COMMON_RESPONSES, **WRITE_RESPONSES})
def revoke_calendar_feed(organization_id: int, person_id: int, feed_id: int, session: SessionDep,
                         caller: CallerDep, now: NowDep) -> Response:
    """This feed URL stops working; the person's other feeds keep working."""
    service.revoke_feed(session, caller, organization_id, person_id, feed_id, now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete(_PERSON + "/calendar-token", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               responses={**COMMON_RESPONSES, **WRITE_RESPONSES})
def revoke_calendar_feeds(organization_id: int, person_id: int, session: SessionDep, caller: CallerDep,
                          now: NowDep) -> Response:
    """Every feed URL of the person stops working."""
    service.revoke_feeds(session, caller, organization_id, person_id, now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/v1/calendar/{token}.ics", response_class=Response, responses={
    **_ICS, 404: problem_response(404, "No feed at this URL (unknown or revoked)"),
    422: COMMON_RESPONSES[422]})
def person_calendar(token: str, session: SessionDep, catalog: CatalogDep, now: NowDep, lang: Lang = None) -> Response:
    """A person's feed; no bearer token: the secret in the URL is the credential."""
    body = service.person_calendar(session, catalog, token, now, lang)
    return _ics(body, "okr-rollout.ics")
