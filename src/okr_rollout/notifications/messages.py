"""Render a reminder for one person, in that person's language, from the Jinja2 templates beside this file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from okr_rollout.journey.cadences import DueReminder
from okr_rollout.notifications.preferences import WEEKLY, Delivery

TEMPLATES = Path(__file__).parent / "templates"
LOCALES = ("en", "zh-TW")
DEADLINE_STEPS = frozenset({"warning", "due", "overdue"})


def locale_of(value: str | None) -> str:
    """The supported language closest to a person's locale: Traditional Chinese for any zh-*, else English."""
    return "zh-TW" if (value or "").lower().startswith("zh") else "en"


@cache
def _environment() -> Environment:
    # Plain-text mail and inbox text: autoescape only for HTML templates, should one be added.
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=False,
    )


@dataclass(frozen=True, slots=True)
class Rendered:
    locale: str
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class Context:
    """What a message says besides the cadence's text: where, when, and whose check-in is missing."""

    organization: str
    timezone: str
    public_url: str
    others: tuple[str, ...] = ()


def render(reminder: DueReminder, recipient_name: str, locale: str, context: Context) -> Rendered:
    language = locale_of(locale)
    zone = _zone(context.timezone)
    local = reminder.due_at.astimezone(zone)
    deadline = reminder.about if reminder.step in DEADLINE_STEPS and not reminder.subject_ids else None
    period = reminder.about if reminder.subject_ids else None
    values = {
        "name": recipient_name,
        "organization": context.organization,
        "timezone": context.timezone,
        "public_url": context.public_url,
        "message": reminder.message.get(language),
        "step": reminder.step or "",
        "deadline": _day(deadline),
        "period": _day(period),
        "days_late": (local.date() - period).days if period is not None else 0,
        "others": list(context.others),
        "when": local.strftime("%Y-%m-%d %H:%M"),
        "page_url": page_url(context.public_url, reminder.audience),
    }
    environment = _environment()
    subject = environment.get_template(f"{language}/reminder_subject.txt").render(values)
    body = environment.get_template(f"{language}/reminder_body.txt").render(values)
    # A header must be one line whatever a playbook's message contains.
    return Rendered(language, " ".join(subject.split()), body.strip() + "\n")


# The form of the client person's own page a reminder to their role is about (the external and internal coaches
# work in the coaches' pages, and get no such link).
PAGE_SECTIONS = {"pilot_member": "key-results", "member": "key-results", "ceo": "support", "executive": "tasks",
                 "department_lead": "meetings"}


def page_url(public_url: str, audience: str) -> str:
    """Where a reminder to ``audience`` sends the person: straight to the form on their page, or nowhere."""
    section = PAGE_SECTIONS.get(audience)
    return f"{public_url.rstrip('/')}/me#{section}" if section else ""


@dataclass(frozen=True, slots=True)
class DigestItem:
    """A reminder told in a digest: when it fell due and its message ({"en": ..., "zh-TW": ...})."""

    due_at: datetime
    message: Mapping[str, str]


def render_digest(items: Sequence[DigestItem], recipient_name: str, locale: str, context: Context) -> Rendered:
    """One message telling a person every reminder held for them beyond the weekly cap."""
    language = locale_of(locale)
    zone = _zone(context.timezone)
    values = {
        "name": recipient_name,
        "organization": context.organization,
        "timezone": context.timezone,
        "public_url": context.public_url,
        "count": len(items),
        "items": [{"when": item.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                   "message": item.message.get(language) or item.message.get("en", "")} for item in items],
    }
    environment = _environment()
    subject = environment.get_template(f"{language}/digest_subject.txt").render(values)
    body = environment.get_template(f"{language}/digest_body.txt").render(values)
    return Rendered(language, " ".join(subject.split()), body.strip() + "\n")


@dataclass(frozen=True, slots=True)
class EmailDigestItem:
    """An e-mail told in a person's digest: when (their local time), its subject, and where to act on it."""

    when: datetime
    subject: str
    link: str


def render_email_digest(items: Sequence[EmailDigestItem], recipient_name: str, locale: str, delivery: Delivery,
                        public_url: str) -> Rendered:
    """A person's daily or weekly e-mail: every e-mail queued for them since their last digest, each with a link."""
    language = locale_of(locale)
    values = {
        "name": recipient_name,
        "count": len(items),
        "daily": delivery.choice != WEEKLY,
        "timezone": delivery.timezone,
        "public_url": public_url,
        "inbox": f"{public_url}/inbox",
        "settings_link": f"{public_url}/settings",
        "items": [{"when": item.when.strftime("%Y-%m-%d %H:%M"), "subject": item.subject, "link": item.link}
                  for item in items],
    }
    environment = _environment()
    subject = environment.get_template(f"{language}/email_digest_subject.txt").render(values)
    body = environment.get_template(f"{language}/email_digest_body.txt").render(values)
    return Rendered(language, " ".join(subject.split()), body.strip() + "\n")


def _day(value: date | None) -> str:
    return value.isoformat() if value is not None else ""


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def render_client_link(recipient_name: str, locale: str, *, sender: str, url: str, expires_at: datetime,
                       context: Context) -> Rendered:
    """The e-mail that brings a person of a client organization their sign-in link, in their language."""
    language = locale_of(locale)
    values = {
        "name": recipient_name,
        "sender": sender,
        "organization": context.organization,
        "timezone": context.timezone,
        "public_url": context.public_url,
        "url": url,
        "expires": expires_at.astimezone(_zone(context.timezone)).strftime("%Y-%m-%d %H:%M"),
    }
    environment = _environment()
    subject = environment.get_template(f"{language}/client_link_subject.txt").render(values)
    body = environment.get_template(f"{language}/client_link_body.txt").render(values)
    return Rendered(language, " ".join(subject.split()), body.strip() + "\n")
