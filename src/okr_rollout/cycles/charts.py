"""What the quarter's charts show, as records (drawing them is the pages' business): each key result's check-ins
against the straight line from its start to its target over the quarter, the check-in rate of each department in
each period of the quarter, and how the quarter's scores fall on the playbook's scale, per department.

The periods are the playbook's ``check_in_interval_days`` and the scale its ``score_scale``: the same arithmetic as
the gates and the quarter review (``journey.scoring``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from okr_rollout.cycles import queries
from okr_rollout.cycles.service import check_ins_of
from okr_rollout.journey.facts import QuarterFacts
from okr_rollout.journey.scoring import elapsed_days
from okr_rollout.models import Okr, Quarter
from okr_rollout.records.context import RecordContext


@dataclass(frozen=True)
class ProgressPoint:
    """One check-in of a key result, and where the straight line from start to target stands on its day."""

    week_of: date
    value: float
    confidence: float | None
    expected: float


@dataclass(frozen=True)
class KeyResultProgress:
    key_result_id: int
    objective: str
    metric: str
    unit: str
    start: float
    target: float
    starts_on: date  # the quarter's first day: the line starts at ``start``
    ends_on: date  # its last day: the line reaches ``target``
    points: list[ProgressPoint]

    def expected_on(self, day: date) -> float:
        return expected_value(self.start, self.target, self.starts_on, self.ends_on, day)


def expected_value(start: float, target: float, starts_on: date, ends_on: date, day: date) -> float:
    """The straight line from ``start`` on the quarter's first day to ``target`` on its last, on ``day``."""
    span = (ends_on - starts_on).days
    if span <= 0:
        return target
    share = min(max((day - starts_on).days / span, 0.0), 1.0)
    return start + (target - start) * share


@dataclass(frozen=True)
class PeriodRate:
    """A department's check-ins in one period of the quarter: key results with a check-in dated in it, of all."""

    period: int  # 1 for the quarter's first period
    starts_on: date
    done: int
    possible: int

    @property
    def rate(self) -> float:
        return self.done / self.possible if self.possible else 0.0


@dataclass(frozen=True)
class DepartmentRates:
    department: str | None  # None: OKRs of no department
    periods: list[PeriodRate]


@dataclass(frozen=True)
class DepartmentScores:
    department: str | None
    counts: list[tuple[float, int]]  # (a point of the scale, how many OKRs scored it), in the scale's order


@dataclass(frozen=True)
class QuarterCharts:
    quarter_id: int
    label: str
    starts_on: date
    ends_on: date
    progress: list[KeyResultProgress]
    interval_days: int | None  # the playbook's check-in period; None: it sets none, and there are no rates
    confidence_max: float | None
    rates: list[DepartmentRates]  # the whole periods elapsed by today
    scale: tuple[float, ...] | None  # the playbook's score scale; None: it sets none
    scores: list[DepartmentScores]


def nearest_on_scale(scale: tuple[float, ...], score: float) -> float:
    """The point of the scale a score stands on (a recorded score is one of them; another goes to the nearest)."""
    return min(scale, key=lambda point: (abs(point - score), point))


def quarter_charts(ctx: RecordContext, quarter: Quarter) -> QuarterCharts:
    """The charts' data of a quarter, from its OKRs, key results and check-ins (voided ones left out). A fixed
    number of statements."""
    session = ctx.session
    okrs = list(session.scalars(queries.okrs_of_quarter(quarter.id)))
    key_results = list(session.scalars(queries.key_results_of([o.id for o in okrs]))) if okrs else []
    history = check_ins_of(session, [kr.id for kr in key_results])
    department_ids = {o.department_id for o in okrs if o.department_id is not None}
    names: dict[int, str] = dict(session.execute(queries.department_names(department_ids)).all()
                                 ) if department_ids else {}
    okr_of = {o.id: o for o in okrs}
    progress = [
        KeyResultProgress(
            kr.id, okr_of[kr.okr_id].objective, kr.metric, kr.unit, kr.start_value, kr.target_value,
            quarter.starts_on, quarter.ends_on,
            [ProgressPoint(c.week_of, c.value, c.confidence,
                           expected_value(kr.start_value, kr.target_value, quarter.starts_on, quarter.ends_on,
                                          c.week_of))
             for c in history.get(kr.id, [])])
        for kr in key_results]

    groups: dict[int | None, list[Okr]] = defaultdict(list)
    for okr in okrs:
        groups[okr.department_id].append(okr)
    # By department name, OKRs of no department last.
    order = sorted(groups, key=lambda d: (d is None, (names.get(d, "") if d is not None else "").lower(), d or 0))

    interval = ctx.rules.check_in_interval_days
    rates: list[DepartmentRates] = []
    if interval is not None:
        period = QuarterFacts(quarter.id, quarter.label, quarter.starts_on, quarter.ends_on)
        elapsed = elapsed_days(period, ctx.today) // interval
        key_results_of: dict[int, list[int]] = defaultdict(list)
        for kr in key_results:
            key_results_of[kr.okr_id].append(kr.id)
        for department in order:
            kr_ids = [kr_id for o in groups[department] for kr_id in key_results_of[o.id]]
            if not kr_ids:
                continue
            covered: dict[int, set[int]] = defaultdict(set)
            for kr_id in kr_ids:
                for check_in in history.get(kr_id, []):
                    index = (check_in.week_of - quarter.starts_on).days // interval
                    if 0 <= index < elapsed:
                        covered[index].add(kr_id)
            rates.append(DepartmentRates(
                names.get(department) if department is not None else None,
                [PeriodRate(i + 1, quarter.starts_on + timedelta(days=i * interval), len(covered[i]), len(kr_ids))
                 for i in range(elapsed)]))

    scale = ctx.rules.score_scale
    scores: list[DepartmentScores] = []
    if scale:
        points = tuple(sorted(scale))
        for department in order:
            counts = dict.fromkeys(points, 0)
            for okr in groups[department]:
                if okr.score is not None:
                    counts[nearest_on_scale(points, okr.score)] += 1
            if any(counts.values()):
                scores.append(DepartmentScores(names.get(department) if department is not None else None,
                                               list(counts.items())))
    return QuarterCharts(quarter.id, quarter.label, quarter.starts_on, quarter.ends_on, progress, interval,
                         ctx.rules.check_in_confidence_max, rates, tuple(sorted(scale)) if scale else None, scores)
