"""When a person's e-mail may go: their choice of one message per reminder or a daily or weekly digest, and
their quiet hours, read in their own timezone (else their organization's, else UTC). Pure: no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

IMMEDIATE = "immediate"
DAILY = "daily"
WEEKLY = "weekly"
CHOICES = (IMMEDIATE, DAILY, WEEKLY)
DEFAULT = DAILY  # at most one e-mail a day unless the person asks for more
HOURS = range(24)


@dataclass(frozen=True, slots=True)
class Delivery:
    choice: str = DEFAULT
    quiet_from: int | None = None  # local hour the quiet hours begin (inclusive)
    quiet_until: int | None = None  # local hour they end (exclusive); before quiet_from: over midnight
    timezone: str = "UTC"

    @property
    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    @property
    def digest(self) -> bool:
        return self.choice in (DAILY, WEEKLY)

    def quiet(self, now: datetime) -> bool:
        """Whether ``now`` falls in the quiet hours (none when either end is unset or both are the same)."""
        start, end = self.quiet_from, self.quiet_until
        if start is None or end is None or start == end:
            return False
        hour = now.astimezone(self.zone).hour
        return start <= hour < end if start < end else hour >= start or hour < end

    def quiet_ends(self, now: datetime) -> datetime:
        """``now`` outside the quiet hours; else the moment they end (the next local ``quiet_until`` o'clock)."""
        if not self.quiet(now) or self.quiet_until is None:
            return now
        local = now.astimezone(self.zone)
        end = datetime.combine(local.date(), time(self.quiet_until), tzinfo=self.zone)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), time(self.quiet_until), tzinfo=self.zone)
        return end.astimezone(now.tzinfo)

    def period(self, now: datetime) -> str:
        """The digest period ``now`` falls in: ``daily:2026-01-05`` or ``weekly:2026-W02`` (ISO week, local)."""
        local = now.astimezone(self.zone).date()
        if self.choice == WEEKLY:
            year, week, _ = local.isocalendar()
            return f"weekly:{year}-W{week:02d}"
        return f"daily:{local.isoformat()}"  # a person who switched to immediate: what is queued goes daily

    def digest_due(self, now: datetime, hour: int) -> bool:
        """A period's digest goes from ``hour`` o'clock of its first day (Monday for a week), outside quiet hours."""
        if self.quiet(now):
            return False
        local = now.astimezone(self.zone)
        first = local.date() - timedelta(days=local.weekday()) if self.choice == WEEKLY else local.date()
        return local >= datetime.combine(first, time(hour), tzinfo=self.zone)
