"""Every statement about logins, sign-in failures and page sessions. The service runs them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Delete, Integer, ScalarSelect, Select, String, Update, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from okr_rollout.db import UtcDateTime
from okr_rollout.models import SignInThrottle, User, WebSession


def user_id_with_email(address: str) -> Select[int]:
    return select(User.id).where(User.email == address)


def user_with_email(address: str) -> Select[User]:
    return select(User).where(User.email == address)


def set_password_hash(user_id: int, password_hash: str) -> Update:
    return update(User).where(User.id == user_id).values(password_hash=password_hash)


def _earlier_failures(kind: str, key: str, since: datetime, slot: datetime) -> ScalarSelect[int]:
    """Failures of a bucket in its slots from ``since`` up to (not including) ``slot``. Past slots are no longer
    counted up (the clock moved on), so a statement's snapshot of them is as good as the latest."""
    earlier = aliased(SignInThrottle, name="earlier")
    return (select(func.coalesce(func.sum(earlier.failures), 0))
            .where(earlier.kind == kind, earlier.key == key, earlier.slot_start >= since, earlier.slot_start < slot)
            .scalar_subquery())


def take_failure_slot(session: Session, *, kind: str, key: str, slot: datetime, since: datetime,
                      limit: int) -> bool:
    """Count one more failure for a bucket in ``slot`` when its slots from ``since`` hold fewer than ``limit``;
    False (and nothing counted) otherwise. One statement: the row of ``slot`` is locked by its upsert, and the
    condition reads that row's latest count (PostgreSQL re-checks it after waiting), so concurrent callers never
    take more than ``limit`` between them."""
    earlier = _earlier_failures(kind, key, since, slot)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    first = select(literal(kind, String()), literal(key, String()), literal(slot, UtcDateTime()),
                   literal(1, Integer())).where(earlier < limit)
    statement = (insert(SignInThrottle).from_select(["kind", "key", "slot_start", "failures"], first)
                 .on_conflict_do_update(index_elements=["kind", "key", "slot_start"],
                                        set_={"failures": SignInThrottle.failures + 1},
                                        where=SignInThrottle.failures + earlier < limit)
                 .returning(SignInThrottle.failures))
    return session.execute(statement).first() is not None


def give_back_failure_slot(kind: str, key: str, slot: datetime) -> Update:
    """Uncount one failure a sign-in took before it was known to succeed (or to be refused by another bucket)."""
    return (update(SignInThrottle)
            .where(SignInThrottle.kind == kind, SignInThrottle.key == key, SignInThrottle.slot_start == slot,
                   SignInThrottle.failures > 0)
            .values(failures=SignInThrottle.failures - 1))


def failures_by_slot(kind: str, key: str, since: datetime) -> Select[datetime, int]:
    return (select(SignInThrottle.slot_start, SignInThrottle.failures)
            .where(SignInThrottle.kind == kind, SignInThrottle.key == key, SignInThrottle.slot_start >= since))


def forget_failure_slots_before(cutoff: datetime) -> Delete:
    """Throttle counters no window reaches any more (for known addresses and unknown ones alike)."""
    return delete(SignInThrottle).where(SignInThrottle.slot_start < cutoff)


def end_sessions_of(user_id: int, *, expired_by: datetime | None = None) -> Delete:
    """End a user's page sessions (only those expired by ``expired_by`` when given)."""
    statement = delete(WebSession).where(WebSession.user_id == user_id)
    return statement if expired_by is None else statement.where(WebSession.expires_at <= expired_by)


def end_session_with(token_hash: str) -> Delete:
    return delete(WebSession).where(WebSession.token_hash == token_hash)


def session_and_user(token_hash: str) -> Select[WebSession, User]:
    return select(WebSession, User).join(User, User.id == WebSession.user_id).where(WebSession.token_hash == token_hash)
