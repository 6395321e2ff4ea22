"""E-mail delivery of pending notifications over SMTP, each message in its own units of work.

A message is first *claimed* (attempt counted, next attempt moved to the retry time, committed), then sent
outside any transaction, then its outcome committed. So a slow or failing server never holds a database lock,
never blocks the other messages, and a process that dies mid-send leaves the message to be retried when its
retry time comes (at-least-once). After ``email_max_attempts`` the message is marked failed.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from sqlalchemy.orm import Session, sessionmaker

from okr_rollout.api.fields import one_line
from okr_rollout.db import session_scope
from okr_rollout.models import Notification
from okr_rollout.notifications import queries
from okr_rollout.settings import Settings

_ERROR_LENGTH = 1000  # keep the stored error readable; SMTP replies can be long


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: int
    attempt: int
    to_name: str
    to_address: str
    locale: str
    subject: str
    body: str


class PermanentFailure(Exception):
    """The server refused the recipient for good (5xx): retrying would not help."""


def send_pending_email(session_factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    """Send every e-mail notification whose (next) attempt is due at ``now``; returns how many were sent."""
    if not settings.smtp_host:
        return 0  # e-mail is off: pending messages wait until a server is configured
    with session_scope(session_factory, write=False) as session:
        ids = list(session.scalars(queries.pending_email_ids(now)))
    sent = 0
    with _Mailer(settings) as mailer:
        for notification_id in ids:
            claimed = _claim(session_factory, notification_id, settings, now)
            if claimed is None:
                continue  # taken by another sender, or no longer pending
            try:
                mailer.send(_message(claimed, settings, now))
            except PermanentFailure as error:
                _finish(session_factory, claimed, settings, now, error=str(error), give_up=True)
            except (smtplib.SMTPException, OSError) as error:
                _finish(session_factory, claimed, settings, now, error=f"{type(error).__name__}: {error}")
            else:
                _finish(session_factory, claimed, settings, now, error=None)
                sent += 1
    return sent


def retry_delay(settings: Settings, attempt: int) -> timedelta:
    """Exponential backoff: base, 2 x base, 4 x base ... after the 1st, 2nd, 3rd failed attempt, up to the max."""
    seconds = settings.email_retry_base_seconds * 2 ** max(0, attempt - 1)
    return timedelta(seconds=min(seconds, settings.email_retry_max_seconds))


def _claim(factory: sessionmaker[Session], notification_id: int, settings: Settings,
           now: datetime) -> _Claimed | None:
    with session_scope(factory) as session:
        row = session.execute(queries.claim_email(notification_id, now)).first()
        if row is None:
            return None
        notification, name, email = row
        notification.attempts += 1
        # Until the outcome is written this is also a lease: no other sender picks the message up before then.
        notification.next_attempt_at = now + retry_delay(settings, notification.attempts)
        if not email:
            notification.status = "failed"
            notification.last_error = "the person has no e-mail address any more"
            return None
        return _Claimed(notification.id, notification.attempts, name, email, notification.locale,
                        notification.subject, notification.body)


def _finish(factory: sessionmaker[Session], claimed: _Claimed, settings: Settings, now: datetime, *,
            error: str | None, give_up: bool = False) -> None:
    with session_scope(factory) as session:
        notification = session.get(Notification, claimed.id)
        if notification is None:
            return
        if error is None:
            notification.status = "sent"
            notification.sent_at = now
            notification.next_attempt_at = None
            notification.last_error = None
            return
        notification.last_error = error[:_ERROR_LENGTH]
        if give_up or claimed.attempt >= settings.email_max_attempts:
            notification.status = "failed"
            notification.next_attempt_at = None


def _message(claimed: _Claimed, settings: Settings, now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_sender
    # A name stored with a line break (imported, or from before names were refused with one) would make the
    # header unwritable, and this message unsendable, for good: it is folded onto one line.
    message["To"] = formataddr((one_line(claimed.to_name).strip(), claimed.to_address))
    message["Subject"] = one_line(claimed.subject)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(idstring=f"notification-{claimed.id}")
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-responders should not answer
    message.set_content(claimed.body, charset="utf-8")
    message["Content-Language"] = claimed.locale  # after set_content, which replaces every Content-* header
    return message


class _Mailer:
    """One SMTP connection for a batch, opened on first use and reopened after a failure."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> _Mailer:
        return self

    def __exit__(self, *_: object) -> None:
        self._close()

    def send(self, message: EmailMessage) -> None:
        reused = self._smtp is not None
        try:
            self._send(message)
        except smtplib.SMTPServerDisconnected:
            self._close()
            if not reused:
                raise
            self._send(message)  # the server dropped an idle connection: one fresh try

    def _send(self, message: EmailMessage) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as refused:
            if all(code >= 500 for code, _ in refused.recipients.values()):
                raise PermanentFailure(f"recipient refused: {refused.recipients}") from refused
            raise
        except smtplib.SMTPServerDisconnected:
            raise
        except (smtplib.SMTPException, OSError):
            self._close()
            raise

    def _connect(self) -> smtplib.SMTP:
        settings = self._settings
        host, port, timeout = settings.smtp_host or "", settings.smtp_port, settings.smtp_timeout_seconds
        smtp: smtplib.SMTP
        if settings.smtp_security == "tls":
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        try:
            if settings.smtp_security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()
