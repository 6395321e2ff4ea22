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
from typing import Literal, get_args

from sqlalchemy.orm import Session

from okr_rollout.api.pagination import another_lists_cursor, is_list_cursor
from okr_rollout.auth.caller import Caller
from okr_rollout.auth.visibility import engagement_visibility
from okr_rollout.catalog.service import Catalog
from okr_rollout.errors import BadRequest
from okr_rollout.facts import load_facts
from okr_rollout.journey.facts import EngagementFacts
from okr_rollout.journey.machine import ReadinessReport, TransitionReadiness, machine_for
from okr_rollout.playbooks import LoadedPlaybook
from okr_rollout.portfolio import queries
from okr_rollout.texts import LocalizedText

Sort = Literal["organization", "phase", "days", "gate", "overdue", "due", "activity"]
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
class PortfolioRow:
    engagement_id: int
    organization_id: int
    organization: str
    timezone: str
    phase: str
    phase_title: LocalizedText
    phase_index: int
    days_in_phase: int
    next_step: TransitionReadiness | None
    overdue: int
    next_due: datetime | None
    last_activity: datetime | None
    attention: tuple[Attention, ...]

    @property
    def needs_attention(self) -> bool:
        return bool(self.attention)


@dataclass(frozen=True)
class PortfolioQuery:
    """Which rows, in which order, from where: ``cursor`` is a ``next_cursor`` given for the same sort and order;
    ``limit`` None gives every row."""

    phase: str | None = None
    attention: bool = False
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
    """The caller's portfolio in a fixed number of statements whatever the number of engagements. Gates are
    evaluated for the rows of the page only, unless the sort is by gate."""
    after = decode_cursor(query.cursor, query.sort, query.order)
    visible = engagement_visibility(caller)
    engagements = session.execute(queries.portfolio_engagements(visible)).all()
    if not engagements:
        return Portfolio([], 0, 0, [], None)
    tasks = {engagement_id: (int(overdue or 0), next_due)
             for engagement_id, overdue, next_due in session.execute(queries.open_task_summary(visible, now))}
    activity = dict(session.execute(queries.last_activity(visible)).all())
    playbooks: dict[int, LoadedPlaybook] = {}
    rows: list[PortfolioRow] = []
    for engagement, name, timezone in engagements:
        playbook = playbooks[engagement.id] = catalog.pinned(session, engagement.playbook_sha256)
        overdue, next_due = tasks.get(engagement.id, (0, None))
        last = activity.get(engagement.id)
        flags: tuple[tuple[Attention, bool], ...] = (("overdue", overdue > 0),
                                                    ("idle", last is None or now - last > idle))
        rows.append(PortfolioRow(
            engagement_id=engagement.id, organization_id=engagement.organization_id, organization=name,
            timezone=timezone or "UTC", phase=engagement.phase, phase_title=playbook.phase(engagement.phase).title,
            phase_index=_phase_index(playbook, engagement.phase),
            days_in_phase=(now - engagement.entered_phase_at).days, next_step=None, overdue=overdue,
            next_due=next_due, last_activity=last, attention=tuple(reason for reason, flagged in flags if flagged)))
    phases = sorted({(r.phase_index, r.phase): r.phase_title for r in rows}.items())
    shown = [r for r in rows if (not query.phase or r.phase == query.phase)
             and (not query.attention or r.needs_attention)]
    total = len(shown)
    if query.sort == "gate":  # the order depends on every gate: evaluate them all first
        shown = _with_next_steps(session, shown, playbooks, now)
    shown = _sorted(shown, query.sort, query.order == "desc")
    if after is not None:
        shown = [r for r in shown if _comes_after(_key(r, query.sort), after, query.order == "desc")]
    page = shown if query.limit is None else shown[:query.limit]
    more = query.limit is not None and len(shown) > query.limit
    if query.sort != "gate":
        page = _with_next_steps(session, page, playbooks, now)
    return Portfolio(page, total, len(rows), [(phase, title) for (_, phase), title in phases],
                     encode_cursor(_key(page[-1], query.sort), query.sort, query.order) if more else None)


def _with_next_steps(session: Session, rows: list[PortfolioRow], playbooks: dict[int, LoadedPlaybook],
                     now: datetime) -> list[PortfolioRow]:
    facts = facts_of(session, [r.engagement_id for r in rows], now)
    result = []
    for row in rows:
        readiness = readiness_of(playbooks[row.engagement_id], facts[row.engagement_id]
                                 ) if row.engagement_id in facts else None
        step = readiness.transitions[0] if readiness and readiness.transitions else None
        result.append(replace(row, next_step=step))
    return result


def _phase_index(playbook: LoadedPlaybook, phase: str) -> int:
    return next((i for i, p in enumerate(playbook.spec.phases) if p.id == phase), len(playbook.spec.phases))


# --- order and cursor --------------------------------------------------------------------------------------------

# A missing date sorts after every date (next due) or before every date (last activity), as a number a cursor
# can carry in JSON.
_LATEST, _EARLIEST = 1e18, -1e18
SortValue = float | int | str
SortKey = tuple[tuple[SortValue, ...], tuple[SortValue, ...]]


def _timestamp(moment: datetime | None, missing: float) -> float:
    if moment is None:
        return missing
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _key(row: PortfolioRow, sort: Sort) -> SortKey:
    """(what the sort compares, what breaks its ties): rows equal on the first keep the organizations' order."""
    value: tuple[SortValue, ...]
    if sort == "phase":
        value = (row.phase_index, row.organization.lower())
    elif sort == "days":
        value = (row.days_in_phase,)
    elif sort == "gate":
        step = row.next_step
        value = ((step.passed_count / len(step.criteria)) if step and step.criteria else 1.0,)
    elif sort == "overdue":
        value = (row.overdue,)
    elif sort == "due":
        value = (_timestamp(row.next_due, _LATEST),)
    elif sort == "activity":
        value = (_timestamp(row.last_activity, _EARLIEST),)
    else:
        value = (row.organization.lower(), row.engagement_id)
    return value, (row.organization.lower(), row.engagement_id)


def _sorted(rows: list[PortfolioRow], sort: Sort, descending: bool) -> list[PortfolioRow]:
    # Ties stay in the organizations' order, ascending, in either direction (a stable sort keeps them).
    by_tie = sorted(rows, key=lambda row: _key(row, sort)[1])
    return sorted(by_tie, key=lambda row: _key(row, sort)[0], reverse=descending)


def _comes_after(key: SortKey, cursor: SortKey, descending: bool) -> bool:
    value, tie = key
    last_value, last_tie = cursor
    if value == last_value:
        return tie > last_tie
    return value < last_value if descending else value > last_value


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
