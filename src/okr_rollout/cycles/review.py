"""The quarter-review summary: scores, check-in rates and decisions per department and per person."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date

from okr_rollout.cycles import queries
from okr_rollout.cycles.schemas import (
    BandsOut,
    CheckInOut,
    DepartmentSummary,
    GroupSummary,
    KeyResultHistory,
    PersonSummary,
    QuarterReview,
    ScoreDistribution,
)
from okr_rollout.cycles.service import check_ins_of, quarter_out
from okr_rollout.journey.facts import QuarterFacts
from okr_rollout.journey.scoring import SCORE_TOLERANCE, check_in_coverage
from okr_rollout.models import Okr, Quarter
from okr_rollout.records.context import RecordContext


def quarter_review(ctx: RecordContext, quarter: Quarter) -> QuarterReview:
    session = ctx.session
    okrs = list(session.scalars(queries.okrs_of_quarter(quarter.id)))
    key_results = list(session.scalars(queries.key_results_of([o.id for o in okrs]))) if okrs else []
    history = check_ins_of(session, [kr.id for kr in key_results])
    key_results_of: dict[int, list[int]] = defaultdict(list)
    for kr in key_results:
        key_results_of[kr.okr_id].append(kr.id)
    department_ids = {o.department_id for o in okrs if o.department_id is not None}
    person_ids = {o.owner_id for o in okrs if o.owner_id is not None}
    department_names = dict(session.execute(queries.department_names(department_ids)).all()) if department_ids else {}
    person_names = dict(session.execute(queries.person_names(person_ids)).all()) if person_ids else {}

    period = QuarterFacts(quarter.id, quarter.label, quarter.starts_on, quarter.ends_on)

    def summarize(group: Sequence[Okr]) -> GroupSummary:
        scores = [o.score for o in group if o.score is not None]
        average = sum(scores) / len(scores) if scores else None
        kr_ids = [kr for o in group for kr in key_results_of[o.id]]
        rate = None
        if ctx.rules.check_in_interval_days is not None and kr_ids:
            check_ins: Iterable[tuple[int, date]] = (
                (c.key_result_id, c.week_of) for kr in kr_ids for c in history.get(kr, []))
            _, done, possible = check_in_coverage(period, ctx.today, ctx.rules.check_in_interval_days, kr_ids,
                                                  check_ins)
            rate = round(done / possible, 3) if possible else None
        bands = ctx.rules.bands
        distribution = None
        sweet = None
        if bands is not None:
            counts = {"red": 0, "yellow": 0, "green": 0}
            for score in scores:
                counts[bands.band(score)] += 1
            distribution = ScoreDistribution(**counts)
            if bands.sweet_spot is not None:
                low, high = bands.sweet_spot
                sweet = sum(1 for s in scores if low - SCORE_TOLERANCE <= s <= high + SCORE_TOLERANCE)
        return GroupSummary(
            okrs=len(group), scored=len(scores), average_score=round(average, 3) if average is not None else None,
            check_in_rate=rate, undecided_okr_ids=[o.id for o in group if o.decision is None],
            distribution=distribution, in_stretch_sweet_spot=sweet,
        )

    def grouped(key: Callable[[Okr], int | None]) -> list[tuple[int | None, list[Okr]]]:
        groups: dict[int | None, list[Okr]] = defaultdict(list)
        for okr in okrs:
            groups[key(okr)].append(okr)
        return sorted(groups.items(), key=lambda item: (item[0] is None, item[0] or 0))

    sandbagging = ctx.rules.bands.sandbagging_above if ctx.rules.bands else None
    departments = []
    for department_id, group in grouped(lambda o: o.department_id):
        summary = summarize(group)
        departments.append(DepartmentSummary(
            **summary.model_dump(), department_id=department_id, name=department_names.get(department_id or -1),
            possibly_sandbagging=sandbagging is not None and summary.average_score is not None
            and summary.average_score > sandbagging + SCORE_TOLERANCE,
        ))
    people = [
        PersonSummary(**summarize(group).model_dump(), person_id=person_id, name=person_names.get(person_id or -1))
        for person_id, group in grouped(lambda o: o.owner_id)
    ]
    due_on = quarter_out(ctx, quarter).next_quarter_due_on
    bands = ctx.rules.bands
    return QuarterReview(
        quarter=quarter_out(ctx, quarter),
        next_quarter_due_on=due_on,
        days_until_due=(due_on - ctx.today).days if due_on else None,
        bands=BandsOut(yellow_from=bands.yellow_from, green_from=bands.green_from,
                       stretch_sweet_spot=list(bands.sweet_spot) if bands.sweet_spot else None,
                       sandbagging_above=bands.sandbagging_above) if bands else None,
        overall=summarize(okrs),
        departments=departments,
        people=people,
        key_results=[
            KeyResultHistory(key_result_id=kr.id, okr_id=kr.okr_id, metric=kr.metric, unit=kr.unit,
                             start=kr.start_value, target=kr.target_value, current=kr.current_value,
                             check_ins=[CheckInOut.model_validate(c) for c in history.get(kr.id, [])])
            for kr in key_results
        ],
    )
