"""/api/v1/webhook-subscriptions: thin handlers (admins and integrations only; 404 to anyone else)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from okr_rollout.api.deps import (
    CallerDep,
    Cursor,
    IfMatch,
    Limit,
    NowDep,
    SessionDep,
    check_if_match,
    get_settings_dep,
    set_etag,
)
from okr_rollout.api.middleware import carries_secret
from okr_rollout.api.pagination import Page
from okr_rollout.api.problems import COMMON_RESPONSES, WRITE_RESPONSES
from okr_rollout.auth.caller import Caller
from okr_rollout.models import WebhookSubscription
from okr_rollout.settings import Settings
from okr_rollout.texts import LocalizedText
from okr_rollout.webhooks import service
from okr_rollout.webhooks.schemas import AttemptOut, SubscriptionCreate, SubscriptionCreated, SubscriptionOut

PREFIX = "/api/v1/webhook-subscriptions"
router = APIRouter(prefix=PREFIX, tags=["webhooks"], responses={**COMMON_RESPONSES, **WRITE_RESPONSES})


def manager(request: Request, caller: CallerDep) -> Caller:
    service.require_manager(caller, request.url.path)
    return caller


ManagerDep = Annotated[Caller, Depends(manager)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def subscription_out(subscription: WebhookSubscription) -> SubscriptionOut:
    message = service.disabled_message(subscription)
    return SubscriptionOut(
        id=subscription.id, url=subscription.url, event_types=list(subscription.event_types),
        description=subscription.description, enabled=subscription.enabled,
        disabled_reason=None if message is None else LocalizedText(en=message[0], zh_tw=message[1]),
        cursor=subscription.cursor, retry_count=subscription.retry_count,
        next_attempt_at=subscription.next_attempt_at, failing_since=subscription.failing_since,
        created_by=subscription.created_by, created_at=subscription.created_at, version=subscription.version)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SubscriptionCreated)
def create_subscription(data: SubscriptionCreate, session: SessionDep, caller: ManagerDep, now: NowDep,
                        settings: SettingsDep, response: Response) -> SubscriptionCreated:
    subscription = service.create(session, caller, data, now, allow_private=settings.webhooks_allow_private)
    response.headers["Location"] = f"{PREFIX}/{subscription.id}"
    set_etag(response, subscription.version)
    carries_secret(response.headers)  # the signing secret, shown once
    return SubscriptionCreated(**subscription_out(subscription).model_dump(), secret=subscription.secret)


@router.get("", response_model=Page[SubscriptionOut])
def list_subscriptions(session: SessionDep, _caller: ManagerDep, cursor: Cursor,
                       limit: Limit = 50) -> Page[SubscriptionOut]:
    rows = service.list_subscriptions(session, after=cursor.after, limit=limit)
    return cursor.page([subscription_out(s) for s in rows], [s.id for s in rows], limit)


@router.get("/{subscription_id}", response_model=SubscriptionOut)
def get_subscription(subscription_id: int, session: SessionDep, _caller: ManagerDep,
                     response: Response) -> SubscriptionOut:
    subscription = service.get(session, subscription_id)
    set_etag(response, subscription.version)
    return subscription_out(subscription)


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_subscription(subscription_id: int, session: SessionDep, caller: ManagerDep, now: NowDep,
                        if_match: IfMatch = None) -> Response:
    subscription = service.get(session, subscription_id, for_change=True)
    check_if_match(if_match, subscription.version)
    service.delete(session, caller, subscription, now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{subscription_id}/attempts", response_model=Page[AttemptOut])
def list_attempts(subscription_id: int, session: SessionDep, _caller: ManagerDep, cursor: Cursor,
                  limit: Limit = 50) -> Page[AttemptOut]:
    """Delivery attempts, newest first."""
    subscription = service.get(session, subscription_id)
    before = cursor.before
    rows = service.list_attempts(session, subscription, before=before, limit=limit)
    return cursor.page([AttemptOut.model_validate(a) for a in rows], [a.id for a in rows], limit)


@router.post("/{subscription_id}/replay", response_model=SubscriptionOut)
def replay(subscription_id: int, session: SessionDep, caller: ManagerDep, now: NowDep, response: Response,
           from_event_id: Annotated[int, Query(alias="from", ge=1, description="The first event id to send again.")],
           if_match: IfMatch = None) -> SubscriptionOut:
    """Send every subscribed event from this id on again (same webhook-id as before); resumes a disabled one."""
    subscription = service.get(session, subscription_id, for_change=True)
    check_if_match(if_match, subscription.version)
    subscription = service.replay(session, caller, subscription, from_event_id, now)
    set_etag(response, subscription.version)
    return subscription_out(subscription)
