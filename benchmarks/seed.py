"""Seed a realistic portfolio with bulk inserts: by default 10,000 engagements over every phase of the standard
playbook and about 1,000,000 check-ins. Prints rows per second.

    python benchmarks/seed.py [--engagements N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, insert
from sqlalchemy.orm import Session

from okr_rollout.catalog.service import Catalog
from okr_rollout.db import make_engine
from okr_rollout.models import (
    CheckIn,
    Department,
    Engagement,
    EngagementCoach,
    KeyResult,
    Okr,
    Organization,
    Person,
    PersonDepartment,
    Quarter,
)
from okr_rollout.playbooks import PlaybookRegistry

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
CYCLE_PHASES = ("q1_cycle", "quarter_review", "next_quarter", "q2_cycle", "train_the_trainers", "culture",
                "expansion")
MEMBERS, KEY_RESULTS_PER_MEMBER, WEEKS = 8, 2, 13


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _chunks(rows: list[dict[str, Any]], size: int = 5000) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


class Seeder:
    def __init__(self, engine: Engine, engagements: int) -> None:
        self.engine = engine
        self.engagements = engagements
        self.rows = 0
        self.catalog = Catalog(PlaybookRegistry.from_directory(ROOT / "playbooks"))

    def bulk(self, model: Any, rows: list[dict[str, Any]]) -> None:
        with self.engine.begin() as connection:
            for chunk in _chunks(rows):
                connection.execute(insert(_table(model)), chunk)
        self.rows += len(rows)

    def run(self, progress: bool = True) -> None:
        playbook = self.catalog.current("standard")
        with Session(self.engine) as session, session.begin():
            self.catalog.pin(session, playbook)
        phases = [phase.id for phase in playbook.spec.phases]
        batch = 500
        started = time.perf_counter()
        for first in range(0, self.engagements, batch):
            self._batch(first, min(batch, self.engagements - first), phases, playbook.sha256, playbook.version)
            if progress:
                done = min(first + batch, self.engagements)
                rate = self.rows / (time.perf_counter() - started)
                bar = "#" * (30 * done // self.engagements)
                print(f"\r[{bar:<30}] {done}/{self.engagements} engagements, {self.rows:,} rows, {rate:,.0f} rows/s",
                      end="", file=sys.stderr, flush=True)
        if progress:
            print(file=sys.stderr)
        if self.engine.dialect.name == "sqlite":
            # As after any bulk load: fold the write-ahead log into the database, so that the benchmarks read
            # the tables themselves rather than a log of a million and a half rows.
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            # Statistics for the planner and a visibility map for index-only scans, as autovacuum would give a
            # served database soon after the load (and where autovacuum is off, as on the CI machines, never).
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")

    def _batch(self, first: int, count: int, phases: list[str], sha256: str, version: int) -> None:
        offset = first * 1000  # ids chosen here so related rows insert without reading ids back
        organizations, people, departments, memberships = [], [], [], []
        engagements, coaches, quarters, okrs, key_results, check_ins = [], [], [], [], [], []
        coach_id = offset + 999
        people.append({"id": coach_id, "organization_id": None, "name": f"Coach {first}", "roles": ["coach"],
                       "locale": "en", "created_at": NOW, "version": 1})
        for n in range(count):
            index = first + n
            org_id = engagement_id = offset + n + 1
            base = offset + n
            phase = phases[index % len(phases)]
            organizations.append({"id": org_id, "name": f"Client {index}", "headcount": 40, "timezone": "Asia/Taipei",
                                  "crm_id": f"bench-{index}", "mission": "m", "vision_1y": "v", "vision_5y": "v",
                                  "vision_10y": "v", "strategies": ["s"], "challenges": [], "okr_software": "x",
                                  "created_at": NOW, "updated_at": NOW, "version": 1})
            department_id = org_id
            departments.append({"id": department_id, "organization_id": org_id, "name": "Sales", "is_pilot": True,
                                "created_at": NOW, "version": 1})
            member_ids = [base * 10 + m for m in range(MEMBERS)]
            for member in member_ids:
                people.append({"id": 10_000_000 + member, "organization_id": org_id, "name": f"Member {member}",
                               "roles": ["member"], "locale": "en", "created_at": NOW, "version": 1})
                memberships.append({"person_id": 10_000_000 + member, "department_id": department_id})
            engagements.append({"id": engagement_id, "organization_id": org_id, "playbook_id": "standard",
                                "playbook_version": version, "playbook_sha256": sha256, "phase": phase,
                                "entered_phase_at": NOW - timedelta(days=10), "created_at": NOW,
                                "updated_at": NOW, "version": 1})
            coaches.append({"engagement_id": engagement_id, "person_id": coach_id})
            if phase not in CYCLE_PHASES:
                continue
            quarter_id = engagement_id
            starts = date(2026, 1, 5)
            quarters.append({"id": quarter_id, "engagement_id": engagement_id, "label": "2026-Q1", "starts_on": starts,
                             "ends_on": starts + timedelta(weeks=WEEKS) - timedelta(days=1), "created_at": NOW,
                             "version": 1})
            for m, member in enumerate(member_ids):
                okr_id = engagement_id * 10 + m
                okrs.append({"id": okr_id, "engagement_id": engagement_id, "quarter_id": quarter_id,
                             "department_id": department_id, "owner_id": 10_000_000 + member,
                             "objective": "Grow", "score": 0.7, "decision": "complete", "created_at": NOW,
                             "version": 1})
                for k in range(KEY_RESULTS_PER_MEMBER):
                    kr_id = okr_id * 10 + k
                    key_results.append({"id": kr_id, "engagement_id": engagement_id, "okr_id": okr_id,
                                        "metric": "Demos", "start_value": 0.0, "target_value": 10.0,
                                        "current_value": 7.0, "unit": "", "created_at": NOW, "version": 1})
                    for week in range(WEEKS):
                        check_ins.append({"engagement_id": engagement_id, "key_result_id": kr_id,
                                          "week_of": starts + timedelta(weeks=week), "value": float(week),
                                          "confidence": 7.0, "note": "", "created_at": NOW})
        for model, rows in ((Organization, organizations), (Person, people), (Department, departments),
                            (PersonDepartment, memberships), (Engagement, engagements),
                            (EngagementCoach, coaches), (Quarter, quarters), (Okr, okrs), (KeyResult, key_results),
                            (CheckIn, check_ins)):
            if rows:
                self.bulk(model, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engagements", type=int, default=10_000)
    parser.add_argument("--database-url", default="sqlite:///./benchmark.db",
                        help="A migrated, empty database (run `okr-rollout db upgrade` with it first).")
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    seeder = Seeder(engine, args.engagements)
    started = time.perf_counter()
    seeder.run()
    elapsed = time.perf_counter() - started
    print(f"seeded {args.engagements:,} engagements, {seeder.rows:,} rows in {elapsed:.1f} s "
          f"({seeder.rows / elapsed:,.0f} rows/s)")


if __name__ == "__main__":
    main()
