"""Logins for the pages: users (argon2id hashes), sign-in with throttling, sessions and their CSRF tokens.

Flushes, never commits. A signed-in user maps to a Caller with the same role, person and organization as an
API token would have, so the pages show exactly what the API would (404 for the rest).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Caller, Role
from okr_rollout.errors import Conflict, NotFound, Unprocessable
from okr_rollout.models import Person, SignInFailure, User, WebSession
from okr_rollout.settings import get_settings
from okr_rollout.users import queries

PAGE_ROLES = (Role.admin, Role.coach, Role.internal_coach)
MIN_PASSWORD_LENGTH = 10


@lru_cache(maxsize=1)
def _password_hasher() -> PasswordHasher:
    """argon2id at the cost the settings name (by default the library's: RFC 9106's second recommended option,
    memory-hard, 64 MiB); a hash made at another cost is upgraded at the next successful sign-in."""
    settings = get_settings()
    return PasswordHasher(time_cost=settings.password_hash_time_cost,
                          memory_cost=settings.password_hash_memory_kib,
                          parallelism=settings.password_hash_parallelism)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verified when the e-mail is unknown, so that an unknown address takes as long as a wrong password."""
    return _password_hasher().hash(secrets.token_urlsafe(16))


def normalize_email(email: str) -> str:
    return email.strip().lower()


def hash_password(password: str) -> str:
    return _password_hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _password_hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(session: Session, *, email: str, role: Role, password: str, person_id: int | None = None,
                now: datetime) -> User:
    """A login for someone who works in the pages; integrations use API tokens instead."""
    address = normalize_email(email)
    if "@" not in address or len(address) > 320:
        raise Unprocessable(f"{email!r} is not an e-mail address",
                            errors=[{"field": "email", "message": "not an e-mail address", "type": "email"}])
    if role not in PAGE_ROLES:
        raise Unprocessable(f"the pages are for {', '.join(r.value for r in PAGE_ROLES)}; "
                            f"an {role.value} uses an API token",
                            errors=[{"field": "role", "message": "not a role of the pages", "type": "role"}])
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Unprocessable(f"the password needs at least {MIN_PASSWORD_LENGTH} characters",
                            errors=[{"field": "password", "message": "too short", "type": "password_length"}])
    if role in (Role.coach, Role.internal_coach) and person_id is None:
        raise Unprocessable(f"a {role.value} login needs --person",
                            errors=[{"field": "person", "message": "required", "type": "missing"}])
    organization_id = None
    if person_id is not None:
        person = session.get(Person, person_id)
        if person is None:
            raise NotFound(f"no person {person_id}")
        if role == Role.internal_coach:
            if person.organization_id is None:
                raise Unprocessable(f"person {person_id} belongs to no organization",
                                    errors=[{"field": "person", "message": "no organization", "type": "organization"}])
            organization_id = person.organization_id
    if session.scalar(queries.user_id_with_email(address)) is not None:
        raise Conflict(f"a login for {address} exists already")
    user = User(email=address, password_hash=hash_password(password), role=role.value, person_id=person_id,
                organization_id=organization_id, created_at=now)
    session.add(user)
    session.flush()
    return user


def caller_of(user: User) -> Caller:
    return Caller(token_id=0, name=user.email, role=Role(user.role), person_id=user.person_id,
                  organization_id=user.organization_id)


# --- sign-in ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Throttle:
    max_failures: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class SignInResult:
    user: User | None
    retry_after: int = 0  # seconds to wait when the account is slowed down

    @property
    def throttled(self) -> bool:
        return self.retry_after > 0


def sign_in(session: Session, email: str, password: str, now: datetime, throttle: Throttle) -> SignInResult:
    """The user for this e-mail and password, or None; refused unchecked while the address is slowed down."""
    address = normalize_email(email)[:320]
    session.execute(queries.forget_failures(address, up_to=now - throttle.window))
    recent = list(session.scalars(queries.latest_failures(address, throttle.max_failures)))
    if len(recent) >= throttle.max_failures:
        # Slowed down until the oldest of the last N failures leaves the window; refused tries do not count,
        # so someone guessing gets N tries a window and the owner gets in again after it.
        wait = recent[-1] + throttle.window - now
        return SignInResult(None, retry_after=max(1, int(wait.total_seconds() + 0.999)))
    user = session.scalar(queries.user_with_email(address))
    ok = verify_password(user.password_hash if user else _dummy_hash(), password)
    if user is None or not ok or user.disabled_at is not None:
        session.add(SignInFailure(email=address, failed_at=now))
        session.flush()
        return SignInResult(None)
    session.execute(queries.forget_failures(address))
    if _password_hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.flush()
    return SignInResult(user)


def set_password(session: Session, user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Unprocessable(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
    user.password_hash = hash_password(password)
    session.execute(queries.end_sessions_of(user.id))  # other browsers sign in again
    session.flush()


# --- sessions -----------------------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(session: Session, user: User, now: datetime, lifetime: timedelta) -> str:
    """A new session for ``user``; returns the cookie's token (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    session.execute(queries.end_sessions_of(user.id, expired_by=now))
    session.add(WebSession(token_hash=_digest(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                           created_at=now, expires_at=now + lifetime))
    session.flush()
    return token


def session_user(session: Session, token: str | None, now: datetime) -> tuple[WebSession, User] | None:
    if not token:
        return None
    row = session.execute(queries.session_and_user(_digest(token))).first()
    if row is None:
        return None
    web_session, user = row[0], row[1]
    if web_session.expires_at <= now or user.disabled_at is not None:
        return None
    return web_session, user


def person_of(session: Session, user: User | None) -> Person | None:
    """The person a user is, if any (their organization's internal coach, or an external coach)."""
    return session.get(Person, user.person_id) if user and user.person_id else None


def set_locale(session: Session, user: User, locale: str) -> None:
    user.locale = locale
    session.flush()


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(queries.end_session_with(_digest(token)))
        session.flush()


def same_token(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def new_token() -> str:
    return secrets.token_urlsafe(32)
