"""Every statement about logins, sign-in failures and page sessions. The service runs them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Delete, Select, delete, select

from okr_rollout.models import SignInFailure, User, WebSession


def user_id_with_email(address: str) -> Select[int]:
    return select(User.id).where(User.email == address)


def user_with_email(address: str) -> Select[User]:
    return select(User).where(User.email == address)


def forget_failures(address: str, *, up_to: datetime | None = None) -> Delete:
    """Drop the failed sign-ins of an address (only those at or before ``up_to`` when given)."""
    statement = delete(SignInFailure).where(SignInFailure.email == address)
    return statement if up_to is None else statement.where(SignInFailure.failed_at <= up_to)


def latest_failures(address: str, limit: int) -> Select[datetime]:
    """When the address last failed to sign in, latest first, at most ``limit`` times."""
    return (select(SignInFailure.failed_at).where(SignInFailure.email == address)
            .order_by(SignInFailure.failed_at.desc()).limit(limit))


def end_sessions_of(user_id: int, *, expired_by: datetime | None = None) -> Delete:
    """End a user's page sessions (only those expired by ``expired_by`` when given)."""
    statement = delete(WebSession).where(WebSession.user_id == user_id)
    return statement if expired_by is None else statement.where(WebSession.expires_at <= expired_by)


def end_session_with(token_hash: str) -> Delete:
    return delete(WebSession).where(WebSession.token_hash == token_hash)


def session_and_user(token_hash: str) -> Select[WebSession, User]:
    return select(WebSession, User).join(User, User.id == WebSession.user_id).where(WebSession.token_hash == token_hash)
