"""E-mail over SMTP: a real local server receives each mail in the recipient's language; failures are retried with
backoff and block neither the inbox nor the other mails."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine

from okr_rollout.db import make_session_factory
from okr_rollout.notifications.delivery import send_pending_email
from okr_rollout.settings import Settings
from tests.notifications._seed import catalog_of, local, notifications, playbook, run, seed

MONDAY_NOON = local(date(2026, 1, 5), 12)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps what it receives and refuses the addresses it is told to."""

    received: list[EmailMessage] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # address -> SMTP reply

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received if address in str(m["To"])]


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def mail_settings(port: int, **extra: Any) -> Settings:
    return Settings(database_url="sqlite://", smtp_host="127.0.0.1", smtp_port=port, smtp_timeout_seconds=5,
                    smtp_sender="OKR rollout <okr@example.com>", **extra)


def monday_reminders(engine: Engine, settings: Settings) -> dict[str, int]:
    """Monday 5 January: the check-in reminder to Lee, Amy and Bo, the team meeting to Lee, all with e-mail."""
    catalog = catalog_of(playbook())
    seeded = seed(engine, catalog, emails=True, email_digest="immediate")
    run(make_session_factory(engine), catalog, settings, MONDAY_NOON)
    return seeded.people


def test_each_person_gets_the_mail_in_their_language(engine: Engine, smtp: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp
    settings = mail_settings(port)
    monday_reminders(engine, settings)
    assert len(notifications(engine, channel="email", status="pending")) == 4

    factory = make_session_factory(engine)
    assert send_pending_email(factory, settings, MONDAY_NOON) == 4
    assert len(mailbox.received) == 4
    (to_bo,) = mailbox.to("bo@example.com")
    assert to_bo["Content-Language"] == "zh-TW"
    assert to_bo["Subject"].startswith("【提醒】Acme Tea Co.:")
    body = to_bo.get_content()
    assert "Bo 您好" in body and "2026-01-05 09:00" in body
    assert "請在 OKR 軟體上更新關鍵結果的進度(每 7 天更新一次)。" in body
    (to_amy,) = mailbox.to("amy@example.com")
    assert to_amy["Content-Language"] == "en"
    assert "Hello Amy" in to_amy.get_content() and "Update your key results' progress" in to_amy.get_content()
    assert {str(m["From"]) for m in mailbox.received} == {"OKR rollout <okr@example.com>"}

    assert {n.status for n in notifications(engine, channel="email")} == {"sent"}
    assert send_pending_email(factory, settings, MONDAY_NOON + timedelta(hours=1)) == 0  # nothing sent twice
    assert len(mailbox.received) == 4


def test_an_unreachable_server_is_retried_with_backoff_and_the_inbox_is_unaffected(engine: Engine) -> None:
    closed = free_port()  # nothing listens there: every connection is refused
    settings = mail_settings(closed, email_max_attempts=3, email_retry_base_seconds=60)
    monday_reminders(engine, settings)
    factory = make_session_factory(engine)

    def attempts() -> list[tuple[int, str, datetime | None]]:
        return [(n.attempts, n.status, n.next_attempt_at) for n in notifications(engine, channel="email")]

    assert send_pending_email(factory, settings, MONDAY_NOON) == 0
    assert attempts() == [(1, "pending", MONDAY_NOON + timedelta(seconds=60))] * 4
    assert all("ConnectionRefusedError" in (n.last_error or "") for n in notifications(engine, channel="email"))
    assert {n.status for n in notifications(engine, channel="inbox")} == {"sent"}  # the inbox has them already

    assert send_pending_email(factory, settings, MONDAY_NOON + timedelta(seconds=59)) == 0
    assert attempts() == [(1, "pending", MONDAY_NOON + timedelta(seconds=60))] * 4  # not due yet: not tried
    second = MONDAY_NOON + timedelta(seconds=60)
    send_pending_email(factory, settings, second)
    assert attempts() == [(2, "pending", second + timedelta(seconds=120))] * 4  # the wait doubles
    third = second + timedelta(seconds=120)
    send_pending_email(factory, settings, third)
    assert attempts() == [(3, "failed", None)] * 4  # email_max_attempts reached
    assert send_pending_email(factory, settings, third + timedelta(days=1)) == 0


def test_a_refused_recipient_does_not_hold_up_the_other_mails(engine: Engine, smtp: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp
    mailbox.refuse = {"amy@example.com": "550 5.1.1 no such mailbox", "bo@example.com": "451 4.3.0 try later"}
    settings = mail_settings(port, email_retry_base_seconds=300)
    people = monday_reminders(engine, settings)
    factory = make_session_factory(engine)

    assert send_pending_email(factory, settings, MONDAY_NOON) == 2  # Lee's two mails go through
    assert [str(m["To"]) for m in mailbox.received] == ["Lee <lee@example.com>"] * 2
    status = {n.person_id: (n.status, n.attempts) for n in notifications(engine, channel="email")}
    assert status[people["Amy"]] == ("failed", 1)  # a permanent refusal is not retried
    assert status[people["Bo"]] == ("pending", 1)  # a temporary one is, after the backoff

    mailbox.refuse = {}
    assert send_pending_email(factory, settings, MONDAY_NOON + timedelta(seconds=299)) == 0
    assert send_pending_email(factory, settings, MONDAY_NOON + timedelta(seconds=300)) == 1
    assert [n.status for n in notifications(engine, channel="email", person_id=people["Bo"])] == ["sent"]
    assert len(mailbox.to("bo@example.com")) == 1

