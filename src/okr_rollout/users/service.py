"""Logins for the pages: users (argon2id hashes), sign-in with throttling, sessions and their CSRF tokens.

Flushes, never commits. A signed-in user maps to a Caller with the same role, person and organization as an
API token would have, so the pages show exactly what the API would (404 for the rest).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from okr_rollout.auth.caller import Caller, Role
from okr_rollout.errors import Conflict, Unprocessable, field_error, not_found
from okr_rollout.models import Person, User, WebSession
from okr_rollout.settings import get_settings
from okr_rollout.texts import LocalizedText
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


def _yield_the_cpu() -> None:
    """A password check's thread runs at the priority the settings name, by default the lowest (Linux: a thread's
    own nice value)."""
    nice = get_settings().password_check_nice
    if nice == 0:
        return
    with contextlib.suppress(AttributeError, OSError):  # elsewhere: the bound on how many at once still holds
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)


@lru_cache(maxsize=1)
def _password_checks() -> ThreadPoolExecutor:
    """Where sign-ins check passwords. argon2 is slow and memory-hard on purpose: sixteen clients posting wrong
    passwords would otherwise run sixteen checks at once, taking every core (and 64 MiB each) from the requests
    beside them. At most ``password_check_workers`` run at once, at the lowest priority; the rest queue."""
    return ThreadPoolExecutor(max_workers=get_settings().password_check_workers,
                              thread_name_prefix="password-check", initializer=_yield_the_cpu)


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
        raise Unprocessable(LocalizedText(f"{email!r} is not an e-mail address.", f"{email!r} 不是電子郵件地址。"),
                            errors=[field_error("email", LocalizedText("not an e-mail address", "不是電子郵件地址"),
                                                "email")])
    if role not in PAGE_ROLES:
        raise Unprocessable(LocalizedText("The pages are for administrators, coaches and internal coaches; an "
                                          "integration uses an API token.",
                                          "網頁供管理員、教練與內部教練使用;系統整合請使用 API 權杖。"),
                            errors=[field_error("role", LocalizedText("not a role of the pages", "不是網頁的角色"),
                                                "role")])
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Unprocessable(_password_too_short(),
                            errors=[field_error("password", LocalizedText("too short", "太短"), "password_length")])
    if role in (Role.coach, Role.internal_coach) and person_id is None:
        raise Unprocessable(LocalizedText("A coach's or an internal coach's login needs its person (--person).",
                                          "教練或內部教練的登入帳號需要指定其人員(--person)。"),
                            errors=[field_error("person", LocalizedText("required", "必填"), "missing")])
    organization_id = None
    if person_id is not None:
        person = session.get(Person, person_id)
        if person is None:
            raise not_found(LocalizedText("person", "人員"))
        if role == Role.internal_coach:
            if person.organization_id is None:
                raise Unprocessable(LocalizedText(f"{person.name} belongs to no organization.",
                                                  f"{person.name} 不屬於任何組織。"),
                                    errors=[field_error("person", LocalizedText("no organization", "沒有組織"),
                                                        "organization")])
            organization_id = person.organization_id
    if session.scalar(queries.user_id_with_email(address)) is not None:
        raise Conflict(LocalizedText(f"A login for {address} exists already.", f"{address} 的登入帳號已存在。"))
    user = User(email=address, password_hash=hash_password(password), role=role.value, person_id=person_id,
                organization_id=organization_id, created_at=now)
    session.add(user)
    session.flush()
    return user


def caller_of(user: User, person: Person | None = None) -> Caller:
    """The caller a signed-in user is; a client person (signed in by a link) acts under their own name."""
    name = person.name if user.role == Role.client.value and person is not None else user.email
    return Caller(token_id=0, name=name, role=Role(user.role), person_id=user.person_id,
                  organization_id=user.organization_id)


# --- sign-in ---------------------------------------------------------------------------------------------
#
# A sign-in runs in steps, each its own short unit of work, so that the password check (argon2, memory-hard and
# slow on purpose) never runs inside a write transaction: on SQLite that would hold the database's one write lock.
#   1. ``sign_in_attempt`` (a reader): the account, and whether this browser is one it signed in from before;
#   2. ``admit`` (a short write): take a failure slot in each bucket the attempt counts against, or refuse;
#   3. ``check_password`` (no database): argon2;
#   4. ``conclude_sign_in`` (a short write, only on success): give the slots back, upgrade the hash.
# A slot is taken before the check and given back after a success, so that concurrent guesses cannot all pass
# a limit none of them has reached yet; a crash between the steps counts as a failure.
#
# Buckets, each counted per quarter of an hour over the last hour and a quarter (so that no hour, however it
# falls on the quarters, holds more than the limit): an account from browsers it does not know (at most 100 an
# hour: OWASP ASVS), a client address over every account (password spraying), and each browser an account signed
# in from before (its device cookie), which has its own allowance and is not held back by the other two: an
# attacker elsewhere, or spraying from the same address, slows the account down for unknown browsers only.

SLOT = timedelta(minutes=15)
WINDOW = timedelta(hours=1)
DEVICE_COOKIE_DAYS = 180


@dataclass(frozen=True, slots=True)
class SignInPolicy:
    account_failures: int
    client_failures: int
    device_failures: int


@dataclass(frozen=True, slots=True)
class SignInAttempt:
    address: str
    client: str
    user: User | None
    device: str | None  # this browser's device token when the account signed in from it before

    def buckets(self, policy: SignInPolicy) -> tuple[tuple[str, str, int], ...]:
        """(kind, key, limit) of every bucket the attempt counts against, in a fixed order (no deadlock)."""
        if self.device is not None:
            return (("device", _digest(f"{self.address}\0{self.device}"), policy.device_failures),)
        return (("account", _digest(self.address), policy.account_failures),
                ("client", _digest(self.client), policy.client_failures))


@dataclass(frozen=True, slots=True)
class Admission:
    slot: datetime
    taken: tuple[tuple[str, str], ...] = ()
    refused_by: str | None = None  # "account" or "client" (a known browser's own allowance counts as account)
    retry_after: int = 0  # seconds

    @property
    def refused(self) -> bool:
        return self.refused_by is not None


@dataclass(frozen=True, slots=True)
class Verdict:
    user: User | None
    new_hash: str | None = None  # the password hashed at today's cost, when the stored hash is older


def _slot_of(now: datetime) -> datetime:
    epoch = datetime(2000, 1, 1, tzinfo=now.tzinfo)
    return now - (now - epoch) % SLOT


def sign_in_attempt(session: Session, email: str, client: str, device_cookie: str | None) -> SignInAttempt:
    """Who is trying to sign in: the account of ``email`` (None: unknown), from which client address, and whether
    ``device_cookie`` proves this browser signed in to that account before."""
    address = normalize_email(email)[:320]
    user = session.scalar(queries.user_with_email(address))
    device = None
    if user is not None and device_cookie:
        nonce, _, mac = device_cookie.partition(".")
        if nonce and hmac.compare_digest(mac, _device_mac(user, nonce)):
            device = nonce
    return SignInAttempt(address, client, user, device)


def admit(session: Session, attempt: SignInAttempt, policy: SignInPolicy, now: datetime) -> Admission:
    """Take a failure slot in every bucket of ``attempt``, or none: refused with how long to wait."""
    return admit_buckets(session, attempt.buckets(policy), now)


def bucket_key(value: str) -> str:
    """How a throttle bucket names what it counts (an address, a person): its SHA-256, nothing in clear."""
    return _digest(value)


def admit_buckets(session: Session, buckets: tuple[tuple[str, str, int], ...], now: datetime) -> Admission:
    """Take a slot in every (kind, key, limit) bucket, or none: refused with how long to wait. Also what
    throttles sign-in links (opened from one address, sent to one person)."""
    slot = _slot_of(now)
    since = slot - WINDOW
    taken: list[tuple[str, str]] = []
    for kind, key, limit in buckets:
        if not queries.take_failure_slot(session, kind=kind, key=key, slot=slot, since=since, limit=limit):
            for taken_kind, taken_key in taken:  # all or none (row locks are held until commit)
                session.execute(queries.give_back_failure_slot(taken_kind, taken_key, slot))
            session.flush()
            rows = session.execute(queries.failures_by_slot(kind, key, since))
            counts = {start: failures for start, failures in rows}
            return Admission(slot, refused_by=kind if kind in ("client", "link", "link_issue") else "account",
                             retry_after=_wait(counts, limit, slot, now))
        taken.append((kind, key))
    session.flush()
    return Admission(slot, tuple(taken))


def _wait(counts: dict[datetime, int], limit: int, slot: datetime, now: datetime) -> int:
    """Seconds until the failures counted in the window fall under ``limit`` as the window moves on."""
    boundary = slot + SLOT
    while sum(n for start, n in counts.items() if start >= boundary - WINDOW) >= limit:
        boundary += SLOT
    return max(1, int((boundary - now).total_seconds() + 0.999))


def check_password(attempt: SignInAttempt, password: str) -> Verdict:
    """argon2 on the attempt's account (a dummy hash for an unknown address, so that both take as long): no
    database, so no lock is held while it runs; on a thread of ``_password_checks``, so that a flood of sign-ins
    does not slow the other requests down."""
    return _password_checks().submit(_check_password, attempt, password).result()


def _check_password(attempt: SignInAttempt, password: str) -> Verdict:
    user = attempt.user
    ok = verify_password(user.password_hash if user else _dummy_hash(), password)
    if user is None or not ok or user.disabled_at is not None:
        return Verdict(None)
    stale = _password_hasher().check_needs_rehash(user.password_hash)
    return Verdict(user, hash_password(password) if stale else None)


def conclude_sign_in(session: Session, admission: Admission, verdict: Verdict) -> None:
    """After a success: the slots the attempt took are given back (a success is no failure), and a hash made at
    an older cost is replaced."""
    for kind, key in admission.taken:
        session.execute(queries.give_back_failure_slot(kind, key, admission.slot))
    if verdict.user is not None and verdict.new_hash is not None:
        session.execute(queries.set_password_hash(verdict.user.id, verdict.new_hash))
        verdict.user.password_hash = verdict.new_hash
    session.flush()


def device_cookie(user: User) -> str:
    """A token for the browser that just signed in as ``user``: a random nonce and its MAC keyed by the stored
    password hash, so nothing is stored, no one without the hash can forge one, and changing the password
    forgets every browser."""
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_device_mac(user, nonce)}"


def _device_mac(user: User, nonce: str) -> str:
    return hmac.new(user.password_hash.encode("utf-8"), f"{user.email}\0{nonce}".encode(),
                    hashlib.sha256).hexdigest()


def prune_sign_in_throttles(session: Session, now: datetime) -> int:
    """Drop the counters no window reaches any more; returns how many."""
    result = session.execute(queries.forget_failure_slots_before(_slot_of(now) - WINDOW))
    session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


def _password_too_short() -> LocalizedText:
    return LocalizedText(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.",
                         f"密碼至少需要 {MIN_PASSWORD_LENGTH} 個字元。")


def set_password(session: Session, user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Unprocessable(_password_too_short())
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
