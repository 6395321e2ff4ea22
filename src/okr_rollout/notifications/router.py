"""/api/v1/me/notifications: the caller's own in-app inbox. Thin: parse, call the service, shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from okr_rollout.api.deps import CallerDep, Cursor, Limit, NowDep, SessionDep
from okr_rollout.api.pagination import Page
from okr_rollout.api.problems import COMMON_RESPONSES
from okr_rollout.errors import not_found
from okr_rollout.models import Notification, Reminder
from okr_rollout.notifications import inbox
from okr_rollout.notifications.schemas import NotificationOut
from okr_rollout.texts import LocalizedText

router = APIRouter(prefix="/api/v1/me", tags=["notifications"], responses=COMMON_RESPONSES)


def _out(notification: Notification, reminder: Reminder | None) -> NotificationOut:
    step = reminder.details.get("step") if reminder is not None else None
    return NotificationOut(
        id=notification.id,
        engagement_id=notification.engagement_id,
        reminder_id=notification.reminder_id,
        cadence_id=reminder.cadence_id if reminder is not None else None,
        occurrence=reminder.occurrence if reminder is not None else None,
        step=step if isinstance(step, str) else None,
        due_at=reminder.due_at if reminder is not None else None,
        locale=notification.locale,
        subject=notification.subject,
        body=notification.body,
        created_at=notification.created_at,
        read_at=notification.read_at,
        unread=notification.read_at is None,
    )


@router.get("/notifications", response_model=Page[NotificationOut])
def list_my_notifications(
    session: SessionDep, caller: CallerDep, cursor: Cursor, limit: Limit = 50,
    unread: Annotated[bool, Query(description="Only notifications not yet marked read.")] = False,
) -> Page[NotificationOut]:
    """The caller's own notifications, newest first. A token that belongs to no person has an empty inbox."""
    if caller.person_id is None:
        return Page(items=[], next_cursor=None)
    before = cursor.before
    rows = inbox.inbox(session, caller.person_id, before=before, limit=limit, unread_only=unread)
    return cursor.page([_out(n, r) for n, r in rows], [n.id for n, _ in rows], limit)


@router.post("/notifications/{notification_id}/read", response_model=NotificationOut)
def mark_notification_read(notification_id: int, session: SessionDep, caller: CallerDep,
                           now: NowDep) -> NotificationOut:
    """Mark one of the caller's notifications read; marking it again keeps the first read time."""
    if caller.person_id is None:
        raise not_found(LocalizedText("notification in your inbox", "您收件匣中的通知"))
    return _out(*inbox.mark_read(session, caller.person_id, notification_id, now))
