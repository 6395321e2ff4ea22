"""A short pulse after each milestone: when a kickoff, a pilot training or a quarter review (which ones: the
playbook's ``pulse_milestones``) is recorded as held, each attendee of the client organization is asked to rate
it from 1 to 5 with a comment, on their page or through a link of their own (stored as a SHA-256 only). The
results are summed up per engagement. Flushes, never commits."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from okr_rollout.clients import queries
from okr_rollout.errors import Conflict, not_found
from okr_rollout.events import service as events
from okr_rollout.models import Notification, Person, Pulse
from okr_rollout.playbooks import LoadedPlaybook
from okr_rollout.playbooks.vocabulary import meeting_kind
from okr_rollout.records.context import RecordContext, invalid
from okr_rollout.settings import get_settings
from okr_rollout.texts import LocalizedText

PARAMETER = "pulse_milestones"
LOW_PARAMETER, DEFAULT_LOW = "pulse_low_average", 3.0
DEFAULT_MILESTONES = ("kickoff", "pilot_training", "quarter_review")
TRAINING = "pilot_training"  # the milestone a held training session is
QUARTER_REVIEW = "quarter_review"  # the milestone that reviews a quarter, held after it ends
REVIEW_WITHIN_PARAMETER, DEFAULT_REVIEW_WITHIN = "next_quarter_max_days", 21
PULSE_PATH = "/pulse/"
LOWEST, HIGHEST = 1, 5
PULSE = LocalizedText("pulse", "回饋")
MILESTONE_TITLES = {TRAINING: LocalizedText("Pilot training", "試點培訓")}


def milestones(playbook: LoadedPlaybook) -> tuple[str, ...]:
    """The milestones the playbook asks a pulse after (its parameter; else kickoff, pilot training, quarter
    review)."""
    value = playbook.parameters.get(PARAMETER)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(str(v) for v in value)
    return DEFAULT_MILESTONES


def milestone_title(milestone: str) -> LocalizedText:
    return MILESTONE_TITLES.get(milestone) or meeting_kind(milestone)


def hash_pulse(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def invite(ctx: RecordContext, milestone: str, record_kind: str, record_id: int, held_on: date,
           attendee_ids: Sequence[int]) -> dict[int, str]:
    """Ask each attendee of the organization for a pulse on a milestone just held (when the playbook wants one);
    returns each person's link secret (shown or e-mailed once, stored hashed)."""
    if milestone not in milestones(ctx.playbook) or not attendee_ids:
        return {}
    people = sorted(set(ctx.session.scalars(queries.client_people_among(ctx.engagement.organization_id,
                                                                        list(attendee_ids)))))
    secrets_of: dict[int, str] = {}
    for person_id in people:
        raw = secrets.token_urlsafe(32)
        ctx.session.add(Pulse(engagement_id=ctx.engagement.id, milestone=milestone, record_kind=record_kind,
                              record_id=record_id, held_on=held_on, person_id=person_id, token_hash=hash_pulse(raw),
                              comment="", created_at=ctx.now))
        secrets_of[person_id] = raw
    if people:
        ctx.session.flush()
        _email(ctx, milestone, held_on, secrets_of)
    return secrets_of


def pulse_url(public_url: str, raw: str) -> str:
    return f"{public_url.rstrip('/')}{PULSE_PATH}{raw}"


def _email(ctx: RecordContext, milestone: str, held_on: date, secrets_of: dict[int, str]) -> None:
    """The link to each attendee with an address, through the mail delivery, when mail is configured."""
    settings = get_settings()
    if not settings.smtp_host:
        return
    title = milestone_title(milestone)
    for person_id, raw in secrets_of.items():
        person = ctx.session.get(Person, person_id)
        if person is None or not person.email:
            continue
        zh = person.locale.lower().startswith("zh")
        url = pulse_url(settings.public_url, raw)
        subject = (f"您覺得{title.zh_tw}({held_on.isoformat()})如何?" if zh
                   else f"How was the {title.en.lower()} of {held_on.isoformat()}?")
        body = (f"{person.name} 您好:\n\n請花一分鐘為{title.zh_tw}({held_on.isoformat()})評分(1 至 5 分)並留下意見:\n"
                f"{url}\n" if zh else
                f"Hello {person.name},\n\nPlease take a minute to rate the {title.en.lower()} of "
                f"{held_on.isoformat()} from 1 to 5, with a comment if you like:\n{url}\n")
        ctx.session.add(Notification(engagement_id=ctx.engagement.id, person_id=person.id, channel="email",
                                     locale="zh-TW" if zh else "en", subject=subject, body=body, status="pending",
                                     attempts=0, next_attempt_at=ctx.now, created_at=ctx.now))
    ctx.session.flush()


def pulse_with_token(session: Session, raw: str) -> Pulse:
    pulse = session.scalar(queries.pulse_with_hash(hash_pulse(raw))) if raw else None
    if pulse is None:
        raise not_found(PULSE)
    return pulse


def open_pulses(session: Session, person_id: int) -> list[Pulse]:
    return list(session.scalars(queries.open_pulses_of(person_id)))


def answer_by_token(session: Session, raw: str, rating: int, comment: str, now: datetime) -> Pulse:
    """Answer through the pulse's own link (no sign-in): the history names the person it was sent to."""
    pulse = pulse_with_token(session, raw)
    person = session.get(Person, pulse.person_id)
    name = person.name if person is not None else "?"
    return answer(session, pulse, rating, comment, actor=f"client:{name}",
                  organization_id=person.organization_id if person else None, now=now)


def answer_mine(session: Session, person_id: int, actor: str, pulse_id: int, rating: int, comment: str,
                now: datetime) -> Pulse:
    """Answer one of the signed-in person's own pulses (anyone else's: 404)."""
    pulse = session.get(Pulse, pulse_id)
    person = session.get(Person, person_id)
    if pulse is None or person is None or pulse.person_id != person_id:
        raise not_found(PULSE)
    return answer(session, pulse, rating, comment, actor=actor, organization_id=person.organization_id, now=now)


def answer(session: Session, pulse: Pulse, rating: int, comment: str, *, actor: str, organization_id: int | None,
           now: datetime) -> Pulse:
    """Rate the milestone once, 1 to 5 with a comment; a second answer is refused."""
    if pulse.answered_at is not None:
        raise Conflict(LocalizedText("This pulse was already answered. Thank you!", "此回饋已填寫過,謝謝!"))
    if not LOWEST <= rating <= HIGHEST:
        raise invalid("rating", LocalizedText(f"rate from {LOWEST} to {HIGHEST}", f"請評分 {LOWEST} 至 {HIGHEST}"),
                      "rating_scale")
    pulse.rating, pulse.comment, pulse.answered_at = rating, comment.strip()[:2000], now
    session.flush()
    events.append(session, type="pulse.answered", actor=actor, at=now, organization_id=organization_id,
                  engagement_id=pulse.engagement_id,
                  payload={"pulse_id": pulse.id, "milestone": pulse.milestone, "rating": rating})
    return pulse


@dataclass(frozen=True)
class PulseSummary:
    """The pulse of one milestone held: its average rating, how many answered of how many asked, the comments."""

    title: LocalizedText
    held_on: date
    asked: int
    answered: int
    average: float | None
    comments: list[str]
    low: bool = False  # the average is below the playbook's pulse_low_average: a health signal


def low_average(playbook: LoadedPlaybook) -> float:
    value = playbook.parameters.get(LOW_PARAMETER)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else DEFAULT_LOW


def summary(session: Session, engagement_id: int, playbook: LoadedPlaybook) -> list[PulseSummary]:
    return _summed(session.scalars(queries.pulses_of_engagement(engagement_id)), playbook)


def quarter_summary(session: Session, engagement_id: int, playbook: LoadedPlaybook, starts_on: date, ends_on: date
                    ) -> list[PulseSummary]:
    """The pulses a quarter's review shows: of the milestones held during the quarter, and of the quarter review
    held after it, within the playbook's ``next_quarter_max_days`` of its end (the time the guide gives to evaluate
    a quarter). A quarter review held in those first days of a quarter is the previous quarter's, so each pulse is
    shown in one quarter's review."""
    value = playbook.parameters.get(REVIEW_WITHIN_PARAMETER)
    within = int(value) if isinstance(value, int | float) and not isinstance(value, bool) else DEFAULT_REVIEW_WITHIN
    review_from, review_until = starts_on + timedelta(days=within + 1), ends_on + timedelta(days=within)
    held = session.scalars(queries.pulses_held_between(engagement_id, starts_on, review_until))
    return _summed((p for p in held if (review_from <= p.held_on <= review_until if p.milestone == QUARTER_REVIEW
                                        else p.held_on <= ends_on)), playbook)


def _summed(held: Iterable[Pulse], playbook: LoadedPlaybook) -> list[PulseSummary]:
    groups: dict[tuple[str, int], list[Pulse]] = {}
    for pulse in held:
        groups.setdefault((pulse.record_kind, pulse.record_id), []).append(pulse)
    found = []
    for pulses in groups.values():
        ratings = [p.rating for p in pulses if p.rating is not None]
        average = round(sum(ratings) / len(ratings), 1) if ratings else None
        found.append(PulseSummary(milestone_title(pulses[0].milestone), pulses[0].held_on, len(pulses), len(ratings),
                                  average, [p.comment for p in pulses if p.comment],
                                  low=average is not None and average < low_average(playbook)))
    return found
