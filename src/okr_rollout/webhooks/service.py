"""Webhook subscriptions: create (the secret shown once), read, delete, replay; disabling. Flushes, never commits."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from okr_rollout.auth.caller import Caller, Role
from okr_rollout.errors import NotFound, Unprocessable, not_found
from okr_rollout.events import service as events
from okr_rollout.models import Event, WebhookAttempt, WebhookSubscription
from okr_rollout.texts import LocalizedText
from okr_rollout.webhooks import queries
from okr_rollout.webhooks.guard import RefusedAddress, check_url
from okr_rollout.webhooks.schemas import SubscriptionCreate

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # Standard Webhooks asks for 24 to 64 random bytes
SYSTEM_ACTOR = "system:webhooks"

# Why a subscription stopped: the code is stored, the sentence is rendered in the reader's languages.
GONE = "gone"
FAILING = "failing"


def require_manager(caller: Caller, path: str) -> None:
    """Only admins and integrations manage webhooks; to anyone else the resource does not exist."""
    if caller.role not in (Role.admin, Role.integration):
        raise NotFound(LocalizedText(f"There is nothing at {path}.", f"{path} 沒有任何資源。"))


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _invalid(field: str, message: LocalizedText, rule: str) -> Unprocessable:
    return Unprocessable(LocalizedText(f"{field} {message.en}", f"{field}:{message.zh_tw}"),
                         errors=[{"field": field, "message": message, "type": rule}])


def create(session: Session, caller: Caller, data: SubscriptionCreate, now: datetime, *,
           allow_private: bool) -> WebhookSubscription:
    try:
        check_url(data.url, allow_private=allow_private)
    except RefusedAddress as refused:
        problem = _invalid("body.url", refused.reason, refused.rule)
        assert problem.errors is not None
        problem.errors[0]["localized"] = refused.reason.as_dict()
        raise problem from None
    event_types = list(dict.fromkeys(data.event_types))  # duplicates add nothing; first mention keeps its place
    subscription = WebhookSubscription(url=data.url, event_types=event_types, secret=new_secret(),
                                       description=data.description, enabled=True, cursor=0, retry_count=0,
                                       created_by=caller.actor, created_at=now)
    session.add(subscription)
    session.flush()
    created = events.append(session, type="webhook.created", actor=caller.actor, at=now,
                            payload={"subscription_id": subscription.id, "url": data.url,
                                     "event_types": event_types})
    # A subscription receives what happens after it exists: its cursor starts at its own creation event, the
    # end of the history. Events of other transactions still running get higher ids (events.append orders
    # writers), so none of them is lost.
    subscription.cursor = created.id
    session.flush()
    return subscription


def get(session: Session, subscription_id: int, *, for_change: bool = False) -> WebhookSubscription:
    """The subscription; ``for_change``: locked until the transaction ends, as delivery locks it to record its
    attempts, so a replay or a delete waits for a delivery being recorded (and the other way round) instead of
    either failing on the version the other changed."""
    subscription = session.scalar(queries.subscription_by_id(subscription_id, lock=for_change))
    if subscription is None:
        raise not_found(LocalizedText("webhook subscription", "Webhook 訂閱"))
    return subscription


def list_subscriptions(session: Session, *, after: int, limit: int) -> list[WebhookSubscription]:
    return list(session.scalars(queries.subscriptions_page(after=after, limit=limit)))


def delete(session: Session, caller: Caller, subscription: WebhookSubscription, now: datetime) -> None:
    events.append(session, type="webhook.deleted", actor=caller.actor, at=now,
                  payload={"subscription_id": subscription.id, "url": subscription.url})
    session.delete(subscription)  # its attempts go with it (ON DELETE CASCADE)
    session.flush()


def list_attempts(session: Session, subscription: WebhookSubscription, *, before: int | None,
                  limit: int) -> list[WebhookAttempt]:
    """Newest first; ``before`` is the id of the last attempt of the previous page."""
    return list(session.scalars(queries.attempts_page(subscription.id, before=before, limit=limit)))


def replay(session: Session, caller: Caller, subscription: WebhookSubscription, from_event_id: int,
           now: datetime) -> WebhookSubscription:
    """Send again every subscribed event from ``from_event_id`` on; also resumes a disabled subscription."""
    if session.get(Event, from_event_id) is None:
        raise _invalid("query.from", LocalizedText("names no event", "沒有對應的事件"), "unknown_event")
    if from_event_id > subscription.cursor + 1:
        # Moving forward would drop the events between: a replay only goes back.
        raise _invalid("query.from", LocalizedText(
            f"must be at most {subscription.cursor + 1}: a replay re-sends, it never skips events not yet delivered",
            f"最多為 {subscription.cursor + 1}:重送只會重新傳送,不會略過尚未傳送的事件"), "replay_forward")
    subscription.cursor = from_event_id - 1
    subscription.enabled = True
    subscription.disabled_reason = None
    subscription.retry_count = 0
    subscription.failing_since = None
    subscription.next_attempt_at = None
    # A new version even when nothing above changed (the cursor already there): a delivery in flight, planned
    # before the replay, must see that its subscription changed and leave the cursor where the replay put it.
    flag_modified(subscription, "cursor")
    session.flush()
    events.append(session, type="webhook.replayed", actor=caller.actor, at=now,
                  payload={"subscription_id": subscription.id, "from_event_id": from_event_id})
    return subscription


def disable(session: Session, subscription: WebhookSubscription, reason: str, now: datetime,
            **details: Any) -> None:
    """Stop delivering to ``subscription`` and record why in the history (delivery calls this)."""
    subscription.enabled = False
    subscription.disabled_reason = reason
    subscription.next_attempt_at = None
    session.flush()
    events.append(session, type="webhook.disabled", actor=SYSTEM_ACTOR, at=now,
                  payload={"subscription_id": subscription.id, "url": subscription.url, "reason": reason,
                           "failures": subscription.retry_count, **details})


def disabled_message(subscription: WebhookSubscription) -> tuple[str, str] | None:
    """Why ``subscription`` stopped, in English and Traditional Chinese; None while it is enabled."""
    if subscription.enabled or subscription.disabled_reason is None:
        return None
    resume_en = "Replay from an event to resume delivery."
    resume_zh = "從某個事件重送(replay)即可恢復傳送。"
    if subscription.disabled_reason == GONE:
        return (f"The receiver answered 410 Gone, so delivery stopped. {resume_en}",
                f"接收端回應 410 Gone,已停止傳送。{resume_zh}")
    if subscription.disabled_reason == FAILING:
        since = subscription.failing_since.isoformat() if subscription.failing_since else "?"
        count = subscription.retry_count
        return (f"Delivery failed {count} times in a row since {since}, so it stopped. {resume_en}",
                f"自 {since} 起連續傳送失敗 {count} 次,已停止傳送。{resume_zh}")
    return (subscription.disabled_reason, subscription.disabled_reason)
