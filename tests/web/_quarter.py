"""A quarter for the charts' tests: two departments and OKRs of none, key results with weekly check-ins (one of them
voided), scores on the playbook's scale. The clock of the tests is Monday 2026-01-05: five whole weeks have passed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine

from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.models import CheckIn, Department, KeyResult, Okr, Quarter
from tests.web._seed import World

STARTS_ON, ENDS_ON = date(2025, 12, 1), date(2026, 2, 28)
WEEKS_ELAPSED = 5  # 2025-12-01 to 2026-01-05, whole weeks

# key result -> its check-ins: (week of, value, confidence)
CHECK_INS: dict[str, list[tuple[date, float, float | None]]] = {
    "Orders a week": [(date(2025, 12, 1), 10, 8), (date(2025, 12, 8), 25, 6), (date(2025, 12, 15), 30, 3),
                      (date(2025, 12, 29), 50, None)],
    "Dealers signed": [(date(2025, 12, 3), 12, 5)],
    "Prototypes <tested>": [(date(2025, 12, 1), 1, 9), (date(2025, 12, 22), 2, 7)],
    "Returns per 100": [],
}


@dataclass(frozen=True)
class SeededQuarter:
    quarter_id: int
    key_results: dict[str, int]  # metric -> id
    sales: str
    research: str


def seed_quarter(engine: Engine, world: World) -> SeededQuarter:
    with session_scope(make_session_factory(engine)) as session:
        sales = Department(organization_id=world.formosa_org, name="Sales")
        research = Department(organization_id=world.formosa_org, name="研發部")
        session.add_all([sales, research])
        quarter = Quarter(engagement_id=world.formosa, label="2026-Q1", starts_on=STARTS_ON, ends_on=ENDS_ON)
        session.add(quarter)
        session.flush()

        def okr(objective: str, department: Department | None, score: float | None) -> Okr:
            found = Okr(engagement_id=world.formosa, quarter_id=quarter.id, objective=objective, score=score,
                        department_id=department.id if department else None, owner_id=world.ceo_id)
            session.add(found)
            session.flush()
            return found

        grow, dealers, build, quality = (okr("Grow sales", sales, 0.7), okr("Open dealers", sales, 0.3),
                                         okr("Build the e-bike", research, 1.0), okr("Fewer returns", None, None))
        plan = {"Orders a week": (grow, 0.0, 100.0), "Dealers signed": (grow, 10.0, 20.0),
                "Prototypes <tested>": (build, 0.0, 5.0), "Returns per 100": (quality, 4.0, 1.0)}
        del dealers  # scored, without key results
        ids = {}
        for metric, (parent, start, target) in plan.items():
            kr = KeyResult(engagement_id=world.formosa, okr_id=parent.id, metric=metric, start_value=start,
                           target_value=target, current_value=start)
            session.add(kr)
            session.flush()
            ids[metric] = kr.id
            for week_of, value, confidence in CHECK_INS[metric]:
                session.add(CheckIn(engagement_id=world.formosa, key_result_id=kr.id, week_of=week_of, value=value,
                                    confidence=confidence))
        session.add(CheckIn(engagement_id=world.formosa, key_result_id=ids["Orders a week"],
                            week_of=date(2025, 12, 22), value=99, confidence=1,
                            voided_at=datetime(2025, 12, 23, tzinfo=UTC), void_reason="typo"))
        return SeededQuarter(quarter.id, ids, sales.name, research.name)
