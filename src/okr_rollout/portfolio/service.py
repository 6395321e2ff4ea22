"""The portfolio: one row per engagement the caller sees (phase, days in it, the next gate, overdue tasks, the next
due date, the last activity, why it needs attention), filtered, sorted and cursor-paginated. The coach's home
page and ``GET /api/v1/portfolio`` both show what ``portfolio`` returns.

It lives in its own package, not in ``engagements``, because it is a read model across domains (engagements,
their tasks and events, organizations, the journey's readiness) that owns no data of its own; its statements
are in ``portfolio/queries.py``. ``facts_of`` and ``machine_for`` are called here and in
``portfolio/engagement.py`` only, never by a page.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast, get_args

from sqlalchemy import ColumnElement, Subquery, and_, func, literal, or_
from sqlalchemy.orm import Session

from okr_rollout.api.pagination import another_lists_cursor, is_list_cursor
from okr_rollout.auth.caller import Caller
from okr_rollout.auth.visibility import engagement_visibility
from okr_rollout.catalog.service import Catalog
from okr_rollout.db import UtcDateTime
from okr_rollout.engagements.health import activity, assess_engagement
from okr_rollout.errors import BadRequest
from okr_rollout.facts import load_facts
from okr_rollout.journey.facts import EngagementFacts
from okr_rollout.journey.health import URGENCY, ActivityFacts, Health, HealthSignal, HealthStatus
from okr_rollout.journey.machine import ReadinessReport, TransitionReadiness, machine_for
from okr_rollout.playbooks import LoadedPlaybook
from okr_rollout.portfolio import queries
from okr_rollout.texts import LocalizedText
from okr_rollout.waves import service as waves
from okr_rollout.waves.service import WaveSummary

# "health": by urgency (stuck, at risk, ready to move, on track, not yet evaluated), then by organization.
Sort = Literal["health", "organization", "phase", "days", "gate", "overdue", "due", "activity"]
SORTS: tuple[Sort, ...] = get_args(Sort)
Order = Literal["asc", "desc"]
Attention = Literal["overdue", "idle"]


def facts_of(session: Session, engagement_ids: Sequence[int], now: datetime) -> dict[int, EngagementFacts]:
    """The facts of the given engagements, in a fixed number of statements whatever their count."""
    return load_facts(session.connection(), list(engagement_ids), now) if engagement_ids else {}


def readiness_of(playbook: LoadedPlaybook, facts: EngagementFacts) -> ReadinessReport:
    """Every transition out of the engagement's phase, its gate evaluated on ``facts``."""
    return machine_for(playbook).readiness(facts)


def evaluate(playbook: LoadedPlaybook, facts: EngagementFacts, source: str, trigger: str) -> TransitionReadiness:
    """A gate evaluated on today's facts, even before the engagement reaches its phase (what is left to do)."""
    return machine_for(playbook).evaluate(facts if facts.phase == source else replace(facts, phase=source), trigger)


@dataclass(frozen=True)
class NextStep:
    """The first transition out of the engagement's phase and how far its gate is from opening."""

    trigger: str
    dest: str
    title: LocalizedText | None
    allowed: bool
    passed_count: int
    total: int

    @classmethod
    def of(cls, readiness: TransitionReadiness) -> NextStep:
        return cls(readiness.trigger, readiness.dest, readiness.title, readiness.allowed, readiness.passed_count,
                   len(readiness.criteria))


@dataclass(frozen=True)
class PortfolioRow:
    engagement_id: int
    organization_id: int
    organization: str
    timezone: str
    phase: str
    phase_title: LocalizedText
    phase_index: int
    days_in_phase: int
    next_step: NextStep | None
    overdue: int
    next_due: datetime | None
    last_activity: datetime | None
    attention: tuple[Attention, ...]
    waves: tuple[WaveSummary, ...] = ()  # its expansion waves, each with its phase
    health: Health | None = None  # None until the scheduler first evaluated it

    @property
    def health_reasons(self) -> tuple[HealthSignal, ...]:
        """Why the row has its health: the signals that decided it, the most telling first (at most two)."""
        return self.health.reasons[:2] if self.health else ()

    @property
    def needs_attention(self) -> bool:
        return bool(self.attention)


@dataclass(frozen=True)
class PortfolioQuery:
    """Which rows, in which order, from where: ``cursor`` is a ``next_cursor`` given for the same sort and order;
    ``limit`` None gives every row."""

    phase: str | None = None
    attention: bool = False
    health: HealthStatus | None = None
    sort: Sort = "organization"
    order: Order = "asc"
    cursor: str | None = None
    limit: int | None = None


@dataclass(frozen=True)
class Portfolio:
    rows: list[PortfolioRow]  # this page
    total: int  # the rows that match the filters, on every page
    visible: int  # every engagement the caller sees, whatever the filters
    phases: list[tuple[str, LocalizedText]]  # the phases the visible engagements are in, in journey order
    next_cursor: str | None


def portfolio(session: Session, caller: Caller, catalog: Catalog, now: datetime, idle: timedelta,
              query: PortfolioQuery = PortfolioQuery()) -> Portfolio:
    """The caller's portfolio, filtered, sorted and cut into pages by the database over the kept readiness (the
    gate's share of criteria met is the one the scheduler last stored); gates are evaluated for the rows of the
    page only. A fixed number of statements whatever the number of engagements."""
    after = decode_cursor(query.cursor, query.sort, query.order)
    visible = engagement_visibility(caller)
    playbooks: dict[str, LoadedPlaybook] = {}
    order_of: dict[tuple[str, str], int] = {}
    titles: dict[tuple[int, str], LocalizedText] = {}
    for sha256, phase in session.execute(queries.pins_and_phases(visible)):
        playbook = playbooks.get(sha256) or playbooks.setdefault(sha256, catalog.pinned(session, sha256))
        index = order_of[(sha256, phase)] = _phase_index(playbook, phase)
        titles[(index, phase)] = playbook.phase(phase).title
    if not order_of:
        return Portfolio([], 0, 0, [], None)
    tasks = query.attention or query.sort in ("overdue", "due")
    activity = query.attention or query.sort == "activity"
    rows = queries.portfolio_rows(visible, now, session.get_bind().dialect.name,
                                  queries.phase_order(order_of, len(order_of) + 1_000) if query.sort == "phase"
                                  else None, tasks=tasks, activity=activity)
    visible_count = session.scalar(queries.count_rows(rows, [])) or 0
    where: list[ColumnElement[bool]] = []
    if query.phase:
        where.append(rows.c.phase == query.phase)
    if query.health:
        where.append(rows.c.health == query.health)
    if query.attention:
        where.append(_needs_attention(rows, now, idle))
    total = session.scalar(queries.count_rows(rows, where)) or 0
    values, ties = _sort_columns(rows, query.sort)
    descending = query.order == "desc"
    if after is not None:
        where.append(_after(values, ties, _cursor_values(after, query.sort), descending))
    order_by = [*(v.desc() if descending else v.asc() for v in values), *(t.asc() for t in ties)]
    statement = queries.page_of_rows(rows, where, order_by, None if query.limit is None else query.limit + 1)
    found = session.execute(statement.add_columns(*(v.label(f"sort_{i}") for i, v in enumerate(values)))).all()
    more = query.limit is not None and len(found) > query.limit
    found = found[:query.limit] if query.limit is not None else found
    details = {d.engagement_id: d for d in session.execute(queries.page_details([r.engagement_id for r in found], now))
               } if found else {}
    page: list[PortfolioRow] = []
    live: list[int] = []
    for row in found:
        detail = details[row.engagement_id]
        last = detail.last_activity
        overdue = int(detail.overdue or 0)
        flags: tuple[tuple[Attention, bool], ...] = (("overdue", overdue > 0),
                                                    ("idle", last is None or now - last > idle))
        playbook = playbooks[row.playbook_sha256]
        kept = detail.evaluated_at is not None and not detail.stale and detail.kept_phase == row.phase
        if not kept:
            live.append(row.engagement_id)
        page.append(PortfolioRow(
            engagement_id=row.engagement_id, organization_id=row.organization_id, organization=row.organization,
            timezone=row.timezone or "UTC", phase=row.phase, phase_title=playbook.phase(row.phase).title,
            phase_index=order_of[(row.playbook_sha256, row.phase)], days_in_phase=int(row.days_in_phase),
            next_step=_kept_step(playbook, row.phase, detail) if kept else None, overdue=overdue,
            next_due=detail.next_due, last_activity=last,
            attention=tuple(reason for reason, flagged in flags if flagged),
            health=_kept_health(row.health, detail.health_reasons) if kept else None))
    cursor = None
    if more and found:
        last_row = found[-1]
        key = (tuple(_json_value(last_row._mapping[f"sort_{i}"]) for i in range(len(values))),
               (last_row.organization_key, last_row.engagement_id))
        cursor = encode_cursor(key, query.sort, query.order)
    # A row written to since the scheduler last evaluated it (or never evaluated) shows its gate as it is now.
    page = _with_next_steps(session, page, {r.engagement_id: playbooks[r.playbook_sha256] for r in found}, now,
                            set(live))
    of_waves = waves.summaries(session, catalog, {r.engagement_id: r.playbook_sha256 for r in found}, now)
    page = [replace(row, waves=tuple(of_waves.get(row.engagement_id, ()))) for row in page]
    return Portfolio(page, total, visible_count, [(phase, title) for (_, phase), title in sorted(titles.items())],
                     cursor)


def _needs_attention(rows: Subquery, now: datetime, idle: timedelta) -> ColumnElement[bool]:
    """A row with an overdue open task, or no event for longer than ``idle``."""
    return or_(rows.c.overdue > 0, rows.c.last_activity.is_(None), rows.c.last_activity < now - idle)


def _kept_step(playbook: LoadedPlaybook, phase: str, detail: Any) -> NextStep | None:
    transitions = playbook.spec.transitions_from(phase)
    if not transitions:
        return None
    first = transitions[0]
    return NextStep(first.trigger, first.dest, first.title, bool(detail.gate_met), int(detail.gate_passed),
                    int(detail.gate_total))


def _kept_health(status: str | None, reasons: Any) -> Health | None:
    """The kept health: its status and the signals that decided it (the others are not kept)."""
    if status not in URGENCY:
        return None
    return Health.from_dict({"status": status, "signals": reasons or []})


def _with_next_steps(session: Session, rows: list[PortfolioRow], playbooks: dict[int, LoadedPlaybook],
                     now: datetime, which: set[int]) -> list[PortfolioRow]:
    """The rows in ``which`` with their gate and health as they are now (their kept ones are out of date)."""
    if not which:
        return rows
    facts = facts_of(session, sorted(which), now)
    found = activity(session, sorted(which), now)
    result = []
    for row in rows:
        if row.engagement_id not in which:
            result.append(row)
            continue
        readiness = readiness_of(playbooks[row.engagement_id], facts[row.engagement_id]
                                 ) if row.engagement_id in facts else None
        step = readiness.transitions[0] if readiness and readiness.transitions else None
        health = assess_engagement(playbooks[row.engagement_id], facts[row.engagement_id],
                                   found.get(row.engagement_id, ActivityFacts(0, None)), readiness
                                   ) if readiness else None
        result.append(replace(row, next_step=NextStep.of(step) if step else None, health=health))
    return result


def _phase_index(playbook: LoadedPlaybook, phase: str) -> int:
    return next((i for i, p in enumerate(playbook.spec.phases) if p.id == phase), len(playbook.spec.phases))


@dataclass(frozen=True)
class PhaseHealthCount:
    phase: str
    phase_title: LocalizedText
    phase_index: int
    status: HealthStatus | None  # None: not yet evaluated
    count: int


def portfolio_phase_health_counts(session: Session, caller: Caller, catalog: Catalog) -> list[PhaseHealthCount]:
    """How many of the caller's engagements are in each (phase, kept health status), in journey order then by
    urgency: the data of a chart of clients by phase and health. Two statements at most, plus a playbook
    snapshot's first read."""
    counts: dict[tuple[int, str, str | None], int] = {}
    titles: dict[str, LocalizedText] = {}
    for sha256, phase, status, count in session.execute(queries.phase_health_counts(engagement_visibility(caller))):
        playbook = catalog.pinned(session, sha256)
        key = (_phase_index(playbook, phase), phase, status if status in URGENCY else None)
        counts[key] = counts.get(key, 0) + int(count)
        titles.setdefault(phase, playbook.phase(phase).title)
    rank: dict[str, int] = {status: i for i, status in enumerate(URGENCY)}
    return [PhaseHealthCount(phase, titles[phase], index, cast(HealthStatus | None, status), count)
            for (index, phase, status), count in sorted(
                counts.items(), key=lambda item: (item[0][0], item[0][1], rank.get(item[0][2] or "", len(rank))))]


# --- order and cursor --------------------------------------------------------------------------------------------

# A missing date sorts after every date (next due) or before every date (last activity).
_LATEST, _EARLIEST = datetime(9999, 12, 31, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC)
SortValue = float | int | str
SortKey = tuple[tuple[SortValue, ...], tuple[SortValue, ...]]


def _sort_columns(rows: Subquery, sort: Sort) -> tuple[list[ColumnElement[Any]], list[ColumnElement[Any]]]:
    """(what the sort compares, what breaks its ties): rows equal on the first keep the organizations' order."""
    c = rows.c
    values: list[ColumnElement[Any]]
    if sort == "health":
        values = [c.health_rank]
    elif sort == "phase":
        values = [c.phase_index, c.organization_key]
    elif sort == "days":
        values = [c.days_in_phase]
    elif sort == "gate":
        values = [c.gate_ratio]
    elif sort == "overdue":
        values = [c.overdue]
    elif sort == "due":
        values = [func.coalesce(c.next_due, literal(_LATEST, UtcDateTime()), type_=UtcDateTime())]
    elif sort == "activity":
        values = [func.coalesce(c.last_activity, literal(_EARLIEST, UtcDateTime()), type_=UtcDateTime())]
    else:
        values = [c.organization_key, c.engagement_id]
    return values, [c.organization_key, c.engagement_id]


def _after(values: Sequence[ColumnElement[Any]], ties: Sequence[ColumnElement[Any]],
           cursor: tuple[tuple[Any, ...], tuple[Any, ...]], descending: bool) -> ColumnElement[bool]:
    """Rows after the cursor's in the order: further on the sort's value, or equal on it and later on the tie."""
    last_values, last_ties = cursor

    def beyond(columns: Sequence[ColumnElement[Any]], bounds: Sequence[Any], down: bool) -> ColumnElement[bool]:
        column, bound = columns[0], bounds[0]
        further: ColumnElement[bool] = column < bound if down else column > bound
        if len(columns) == 1:
            return further
        return or_(further, and_(column == bound, beyond(columns[1:], bounds[1:], down)))

    def equal(columns: Sequence[ColumnElement[Any]], bounds: Sequence[Any]) -> ColumnElement[bool]:
        return and_(*(column == bound for column, bound in zip(columns, bounds, strict=True)))

    return or_(beyond(values, last_values, descending),
               and_(equal(values, last_values), beyond(ties, last_ties, False)))


def _cursor_values(cursor: SortKey, sort: Sort) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The cursor's values as the columns compare them (a date for the date sorts)."""
    values, ties = cursor
    if len(ties) != 2 or len(values) != (2 if sort in ("phase", "organization") else 1):
        raise ValueError("cursor of another shape")
    if sort in ("due", "activity"):
        if not isinstance(values[0], str):
            raise ValueError("cursor date")
        return (datetime.fromisoformat(values[0]),), ties
    return values, ties


def _json_value(value: Any) -> SortValue:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, int | float | str):
        return value
    raise TypeError(f"unexpected sort value {value!r}")


def encode_cursor(key: SortKey, sort: Sort, order: Order) -> str:
    text = json.dumps({"sort": sort, "order": order, "after": [list(key[0]), list(key[1])]},
                      separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, sort: Sort, order: Order) -> SortKey | None:
    """The key of the last row of the previous page; 400 for a cursor this API did not give out for this sort
    and order."""
    if not cursor:
        return None
    if is_list_cursor(cursor):
        raise another_lists_cursor()
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
        value, tie = data["after"]
        if data["sort"] != sort or data["order"] != order:
            raise BadRequest(LocalizedText(
                f"The cursor was given out for sort={data['sort']}&order={data['order']}, "
                f"not sort={sort}&order={order}.",
                f"此游標屬於 sort={data['sort']}&order={data['order']},而不是 sort={sort}&order={order}。"))
        if not all(isinstance(part, list) and all(isinstance(v, int | float | str) for v in part)
                   for part in (value, tie)):
            raise ValueError(cursor)
        return tuple(value), tuple(tie)
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        raise BadRequest(LocalizedText("The cursor is not one this API gave out; start again from the first page.",
                                       "此游標不是本 API 所發出的;請從第一頁重新開始。")) from None
