"""The calendar of an engagement: a pure function of its facts, its pinned playbook and the clock.

Nothing here reads the database or the time, so the engagement feed and the per-person feed are the same
events filtered differently, and the UIDs (``meeting-12@<installation id>.okr-rollout``) are the same in both:
a calendar client that subscribes to both shows one event, not two. The installation's id in every UID keeps
two installations' events apart in a client that subscribes to both.

Every timed event has an end: a meeting record says when it started, and its kind's planned length comes from
the playbook (``team_meeting_minutes``, ``one_on_one_minutes``…); a calendar client shows an event with no end
as a zero-length point.

Every number comes from the playbook: the drafting window's length, the next-quarter deadline, the local
weekday and hour of the recurring meetings. Which quarters have a weekly team meeting and 1:1s, and how
often, is read from the playbook's ``meeting_cadence`` gate criteria (quarter ordinal, meeting kind,
interval resolved from ``team_meeting_interval_days`` / ``one_on_one_interval_days``): the same rule the
gate checks is the one the calendar shows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, vRecur, vText

from okr_rollout.api.fields import EARLIEST_DATE, LATEST_DATE, multi_line, one_line
from okr_rollout.calendar import texts
from okr_rollout.journey.facts import DepartmentFacts, EngagementFacts, PersonFacts, QuarterFacts
from okr_rollout.playbooks import LoadedPlaybook
from okr_rollout.playbooks.kinds import WEEKDAYS, MeetingCadence
from okr_rollout.playbooks.schema import ParameterValue
from okr_rollout.records.rules import CANCELLED, PLANNED, RecordRules

UID_DOMAIN = "okr-rollout"
# The playbook parameter giving each meeting kind's planned length in minutes.
MEETING_MINUTES_PARAMETERS: dict[str, str] = {
    "executive": "executive_meeting_minutes",
    "kickoff": "kickoff_meeting_minutes",
    "drafting_session": "drafting_session_minutes",
    "weekly_team": "team_meeting_minutes",
    "one_on_one": "one_on_one_minutes",
    "quarter_review": "quarter_review_minutes",
    "culture": "culture_meeting_minutes",
}
# An engagement pinned to a playbook written before those parameters existed takes them from the playbook's
# current version (``defaults``); were that gone too, from this: the shipped playbooks' team meeting length.
_LAST_RESORT_MEETING_MINUTES = 60
PRODID = "-//okr-rollout//calendar feed//EN"
_ICAL_STATUS = {PLANNED: "CONFIRMED", CANCELLED: "CANCELLED"}
_DAYS_PER_WEEK = 7  # calendar arithmetic, not a rule of the domain
_ONE_DAY = timedelta(days=1)  # an all-day event ends (exclusively) on the next day
# Dates the API refuses today may have been stored before: an event is shown only if its dates, the days added to
# them (a drafting window, a deadline) and the VTIMEZONE around them can be computed.
_SHOWN_FROM, _SHOWN_UNTIL = date(2, 1, 1), date(9990, 12, 31)


def _shown(*days: date | datetime | None) -> bool:
    return all(d is None or _SHOWN_FROM <= (d.date() if isinstance(d, datetime) else d) <= _SHOWN_UNTIL
               for d in days)


@dataclass(frozen=True, slots=True)
class Entry:
    """One VEVENT with the dates it spans, so the calendar can be ordered and its VTIMEZONE sized."""

    first_day: date
    last_day: date
    uid: str
    event: Event


@dataclass(frozen=True, slots=True)
class _Series:
    meeting_kind: str
    quarter: QuarterFacts
    interval_days: int
    department: DepartmentFacts | None  # None: the whole (small) company is the pilot


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


class _Builder:
    def __init__(self, playbook: LoadedPlaybook, facts: EngagementFacts, locale: str, now: datetime,
                 installation: str, person_id: int | None, defaults: Mapping[str, ParameterValue]) -> None:
        self.playbook = playbook
        self.defaults = defaults
        self.uid_domain = f"{installation}.{UID_DOMAIN}"
        self.facts = facts
        self.rules = RecordRules.of(playbook)
        self.locale = locale
        self.now = now
        self.person_id = person_id
        self.zone = zone_of(facts.organization.timezone)
        self.names = {person.id: person.name for person in facts.people}
        self.departments = {department.id: department for department in facts.departments}

    # --- helpers ---------------------------------------------------------------------------------------

    def t(self, key: str, **values: object) -> str:
        return texts.text(self.locale, key, **values)

    def concerns(self, people: frozenset[int]) -> bool:
        return self.person_id is None or self.person_id in people

    def people_line(self, key: str, ids: frozenset[int]) -> list[str]:
        names = [self.names[i] for i in sorted(ids) if i in self.names]
        return [self.t(key, value=texts.join(self.locale, names))] if names else []

    def department_line(self, department_id: int | None) -> list[str]:
        department = self.departments.get(department_id) if department_id is not None else None
        return [self.t("line.department", value=department.name)] if department else []

    def suffix(self, department_id: int | None) -> str:
        department = self.departments.get(department_id) if department_id is not None else None
        return f" — {department.name}" if department else ""

    def entry(self, uid: str, summary: str, lines: Sequence[str], start: date | datetime,
              end: date | datetime | None, last_day: date | None = None) -> Entry:
        uid = f"{uid}@{self.uid_domain}"
        description = "\n".join([self.t("line.organization", value=self.facts.organization.name), *lines])
        # Names come from people: a line break (stored before the API refused it, or imported) must neither end
        # the content line (a bare CR would start a forged property) nor split a one-line SUMMARY.
        event = Event.new(uid=uid, stamp=self.now, start=start, end=end, summary=one_line(summary),
                          description=multi_line(description))
        first = start.date() if isinstance(start, datetime) else start
        return Entry(first, last_day or first, uid, event)

    def int_parameter(self, name: str) -> int | None:
        value = self.playbook.parameters.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def meeting_length(self, kind: str) -> timedelta:
        """A meeting kind's planned length (playbook parameter), for a record or series that gives none."""
        name = MEETING_MINUTES_PARAMETERS.get(kind)
        for minutes in (self.int_parameter(name), self.defaults.get(name)) if name is not None else ():
            if isinstance(minutes, int) and not isinstance(minutes, bool) and minutes > 0:
                return timedelta(minutes=minutes)
        return timedelta(minutes=_LAST_RESORT_MEETING_MINUTES)

    # A planned meeting or training session is in the feed ahead of its day (STATUS:CONFIRMED, "planned" in its
    # description); a cancelled one stays, marked STATUS:CANCELLED, so a calendar that showed it removes it.
    def titled(self, status: str, title: str) -> str:
        return self.t("status.cancelled", title=title) if status == CANCELLED else title

    def status_lines(self, status: str, lines: list[str]) -> list[str]:
        return [self.t("status.planned"), *lines] if status == PLANNED else lines

    @staticmethod
    def with_status(status: str, entry: Entry) -> Entry:
        if status in _ICAL_STATUS:
            entry.event.add("status", _ICAL_STATUS[status])
        return entry

    # --- records ---------------------------------------------------------------------------------------

    def meetings(self) -> Iterator[Entry]:
        for meeting in sorted(self.facts.meetings, key=lambda m: m.id):
            if not self.concerns(meeting.attendee_ids) or not _shown(meeting.held_at):
                continue
            key = f"meeting.{meeting.kind}"
            title = self.t(key) if texts.has(key) else self.t("meeting.other", kind=meeting.kind)
            lines = [*self.department_line(meeting.department_id),
                     *self.people_line("line.attendees", meeting.attendee_ids)]
            if meeting.outcomes:
                lines.append(self.t("line.outcomes", value=texts.join(self.locale, sorted(meeting.outcomes))))
            # Shown at the local time it was held, lasting its kind's planned length (the record has none).
            start = meeting.held_at.astimezone(self.zone)
            yield self.with_status(meeting.status, self.entry(
                f"meeting-{meeting.id}", self.titled(meeting.status, title + self.suffix(meeting.department_id)),
                self.status_lines(meeting.status, lines), start, start + self.meeting_length(meeting.kind)))

    def training(self) -> Iterator[Entry]:
        for session in sorted(self.facts.training_sessions, key=lambda s: s.id):
            if not self.concerns(session.attendee_ids) or not _shown(session.held_on):
                continue
            hours = f"{session.hours:g}"
            lines = [self.t("line.hours", value=hours),
                     self.t("line.modules", value=texts.join(self.locale, sorted(session.modules))),
                     *self.people_line("line.attendees", session.attendee_ids)]
            yield self.with_status(session.status, self.entry(
                f"training-{session.id}", self.titled(session.status, self.t("training", hours=hours)),
                self.status_lines(session.status, lines), session.held_on, session.held_on + _ONE_DAY))

    def drafting(self) -> Iterator[Entry]:
        max_weeks = self.int_parameter("drafting_max_weeks")
        for group in sorted(self.facts.drafting_groups, key=lambda g: g.id):
            if not self.concerns(group.member_ids) or not _shown(group.started_on, group.ended_on):
                continue
            start = group.started_on
            if group.ended_on is not None:
                end = group.ended_on + _ONE_DAY
                body = self.t("drafting.ended", start=start, end=group.ended_on)
            elif max_weeks is not None:
                end = start + timedelta(weeks=max_weeks)
                body = self.t("drafting.open", start=start, weeks=max_weeks, end=end - _ONE_DAY)
            else:
                end = start + _ONE_DAY
                body = self.t("drafting.open_unbounded", start=start)
            lines = [body, *self.department_line(group.department_id),
                     *self.people_line("line.members", group.member_ids)]
            yield self.entry(f"drafting-{group.id}", self.t("drafting") + self.suffix(group.department_id), lines,
                             start, end, end - _ONE_DAY)

    def quarters(self) -> Iterator[Entry]:
        """Quarter ends and next-quarter deadlines concern everyone who takes part in the engagement."""
        if not self.takes_part_in_engagement():
            return
        max_days = self.rules.next_quarter_max_days
        for quarter in self.shown_quarters():
            lines = [self.t("quarter_end.body", quarter=quarter.label, start=quarter.starts_on, end=quarter.ends_on)]
            if self.rules.score_scale:
                scale = " / ".join(f"{score:.1f}" for score in sorted(self.rules.score_scale, reverse=True))
                lines.append(self.t("quarter_end.scale", value=scale))
            if self.rules.decisions:
                lines.append(self.t("quarter_end.decisions", value=texts.join(self.locale, self.rules.decisions)))
            yield self.entry(f"quarter-end-{quarter.id}", self.t("quarter_end", quarter=quarter.label), lines,
                             quarter.ends_on, quarter.ends_on + _ONE_DAY)
            if max_days is None:
                continue
            deadline = quarter.ends_on + timedelta(days=max_days)
            yield self.entry(
                f"next-quarter-deadline-{quarter.id}",
                self.t("next_quarter_deadline", days=max_days, quarter=quarter.label),
                [self.t("next_quarter.body", quarter=quarter.label, days=max_days, end=quarter.ends_on)],
                deadline, deadline + _ONE_DAY,
            )

    def shown_quarters(self) -> list[QuarterFacts]:
        return [q for q in sorted(self.facts.quarters, key=lambda q: (q.starts_on, q.id))
                if _shown(q.starts_on, q.ends_on)]

    def takes_part_in_engagement(self) -> bool:
        """Whether the person has any part in the engagement: attends, trains, drafts, is appointed, owns an
        OKR, coaches it, or is in a pilot department with recurring meetings. The whole calendar has no person."""
        if self.person_id is None:
            return True
        person_id, facts = self.person_id, self.facts
        return (person_id in facts.coach_ids
                or any(person_id in m.attendee_ids for m in facts.meetings)
                or any(person_id in s.attendee_ids for s in facts.training_sessions)
                or any(person_id in g.member_ids for g in facts.drafting_groups)
                or any(a.person_id == person_id for a in facts.appointments)
                or any(o.owner_id == person_id for o in facts.okrs)
                or any(True for _ in self.recurring()))

    # --- recurring meetings ------------------------------------------------------------------------------

    def series(self) -> Iterator[_Series]:
        cadences: dict[tuple[int, str], MeetingCadence] = {}
        for key in sorted(self.playbook.gates):
            for criterion in self.playbook.gates[key]:
                params = criterion.params
                if isinstance(params, MeetingCadence):
                    cadences.setdefault((params.quarter, params.meeting_kind), params)
        for (ordinal, kind), params in sorted(cadences.items()):
            quarter = self.facts.quarter(ordinal)
            if quarter is None or not _shown(quarter.starts_on, quarter.ends_on):
                continue
            if self.facts.whole_company(params.small_company_headcount):
                yield _Series(kind, quarter, params.interval_days, None)
                continue
            for department in sorted(self.facts.pilot_departments(), key=lambda d: d.id):
                yield _Series(kind, quarter, params.interval_days, department)

    def takes_part(self, person: PersonFacts | None, series: _Series) -> bool:
        if self.person_id is None:
            return True
        if person is None:
            return False
        department = series.department
        return department is None or department.id in person.department_ids or department.lead_id == person.id

    def recurring(self) -> Iterator[Entry]:
        person = next((p for p in self.facts.people if p.id == self.person_id), None)
        weekday_value = self.playbook.parameters.get("reminder_weekday")
        weekday = weekday_value if isinstance(weekday_value, str) and weekday_value in WEEKDAYS else None
        hour = self.int_parameter("reminder_hour")
        for series in self.series():
            if self.takes_part(person, series):
                entry = self.recurring_entry(series, weekday, hour)
                if entry is not None:
                    yield entry

    def recurring_entry(self, series: _Series, weekday: str | None, hour: int | None) -> Entry | None:
        quarter = series.quarter
        # Without a weekday in the playbook the series keeps the quarter's first weekday.
        target = WEEKDAYS.index(weekday) if weekday is not None else quarter.starts_on.weekday()
        first = quarter.starts_on + timedelta(days=(target - quarter.starts_on.weekday()) % _DAYS_PER_WEEK)
        if first > quarter.ends_on:
            return None
        weekday_name = texts.weekday(self.locale, WEEKDAYS[first.weekday()])
        weeks, rest = divmod(series.interval_days, _DAYS_PER_WEEK)
        what_key = f"series.what.{series.meeting_kind}"
        what = self.t(what_key) if texts.has(what_key) else self.t("series.what.other", kind=series.meeting_kind)
        capitalized = what[:1].upper() + what[1:]
        if rest:
            rule = vRecur(freq="DAILY", interval=series.interval_days)
            title = self.t("series.days", what=what, What=capitalized, n=series.interval_days)
            when = self.t("when.days", n=series.interval_days, first=first)
        elif weeks == 1:
            rule = vRecur(freq="WEEKLY", interval=weeks)
            title = self.t("series.one_week", what=what)
            when = self.t("when.one_week", weekday=weekday_name)
        else:
            rule = vRecur(freq="WEEKLY", interval=weeks)
            title = self.t("series.weeks", what=what, What=capitalized, n=weeks)
            when = self.t("when.weeks", n=weeks, weekday=weekday_name)
        span = {"quarter": quarter.label, "start": quarter.starts_on, "end": quarter.ends_on, "when": when}
        start: date | datetime
        if hour is None:
            start = first
            rule["until"] = quarter.ends_on
            body = self.t("series.body_all_day", **span)
            end: date | datetime | None = first + _ONE_DAY
        else:
            # DTSTART carries the organization's TZID, so the meeting stays at the same local hour across a
            # daylight-saving change; UNTIL must then be in UTC (RFC 5545): the end of the quarter's last day.
            start = datetime.combine(first, time(hour), tzinfo=self.zone)
            last_moment = datetime.combine(quarter.ends_on, time.max, tzinfo=self.zone)
            rule["until"] = last_moment.astimezone(UTC).replace(microsecond=0)
            body = self.t("series.body", **span, time=f"{hour:02d}:00", timezone=self.zone.key)
            end = start + self.meeting_length(series.meeting_kind)
        department = series.department
        lines = [body, *self.department_line(department.id)] if department else [
            body, self.t("series.scope.company")]
        scope = f"department-{department.id}" if department else "company"
        uid = f"series-{series.meeting_kind.replace('_', '-')}-quarter-{quarter.id}-{scope}"
        entry = self.entry(uid, title + self.suffix(department.id if department else None), lines, start, end,
                           quarter.ends_on)
        entry.event.add("rrule", rule)
        return entry


def engagement_entries(playbook: LoadedPlaybook, facts: EngagementFacts, *, locale: str, now: datetime,
                       installation: str, person_id: int | None = None,
                       defaults: Mapping[str, ParameterValue] | None = None) -> list[Entry]:
    """The events of one engagement: all of them, or (``person_id``) those that concern that person.
    ``installation`` is this installation's id, part of every UID; ``defaults`` the parameters of the current
    version of the engagement's playbook, for those its pinned version does not have."""
    builder = _Builder(playbook, facts, locale, now, installation, person_id, defaults or {})
    return [*builder.meetings(), *builder.training(), *builder.drafting(), *builder.quarters(),
            *builder.recurring()]


def calendar_bytes(title: str, timezone: str, entries: Sequence[Entry]) -> bytes:
    """A VCALENDAR of the entries in a stable order, with a VTIMEZONE for every TZID it uses."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", vText(one_line(title)))  # an X- property is written as given unless typed
    calendar.add("x-wr-timezone", zone_of(timezone).key)
    ordered = sorted(entries, key=lambda e: (e.first_day, e.uid))
    for entry in ordered:
        calendar.add_component(entry.event)
    if ordered:
        # The VTIMEZONE covers the years the events span (and one more), not 1970-2038: smaller and stable.
        # Within the years the API accepts: a VTIMEZONE from year 2 to 9990 would be enormous.
        first = min(max(min(e.first_day for e in ordered), EARLIEST_DATE), LATEST_DATE)
        last = max(min(max(e.last_day for e in ordered), LATEST_DATE), first)
        calendar.add_missing_timezones(first_date=date(first.year, 1, 1), last_date=date(last.year + 2, 1, 1))
    body: bytes = calendar.to_ical()
    return body
