"""The benchmarks' seed writes data the application reads as real: every seeded engagement answers, its readiness
evaluates, and the heavy gate (Q1's end) judges a quarter of records, passed by some engagements and not others."""

from __future__ import annotations

from collections import Counter
from typing import Any

from benchmarks.seed import NOW, Seeder
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from okr_rollout.catalog.service import Catalog
from okr_rollout.facts import load_facts
from okr_rollout.journey.machine import machine_for
from okr_rollout.models import CheckIn, Engagement, Meeting, Task, TaskAssignee
from tests.conftest import Clock, Tokens, auth

# Two engagements per phase of the standard playbook: the second q1_cycle one (index 19) is mid-quarter.
SEEDED = 26


def _end_q1(readiness: dict[str, Any]) -> dict[str, Any]:
    return next(t for t in readiness["transitions"] if t["trigger"] == "end_q1")


def test_seeded_engagements_answer_and_the_heavy_gate_judges_real_records(
        engine: Engine, app_client: TestClient, tokens: Tokens, clock: Clock, catalog: Catalog) -> None:
    clock.now = NOW
    seeder = Seeder(engine, SEEDED)
    seeder.run(progress=False)
    ready = seeder.add_engagements(2, "q1_cycle")
    machine = machine_for(catalog.current("standard"))

    # Every seeded engagement's readiness evaluates on its facts; the phases each have their records.
    with engine.connect() as connection:
        facts = load_facts(connection, None, NOW)
        phases = dict(connection.execute(select(Engagement.id, Engagement.phase)).all())
        tasks = Counter(connection.execute(select(Task.done, func.count()).group_by(Task.done)).all())
        assert connection.execute(select(func.count()).select_from(TaskAssignee)).scalar_one() > 0
        assert connection.execute(select(func.count()).select_from(CheckIn)).scalar_one() > 0
        kinds = set(connection.execute(select(Meeting.kind).distinct()).scalars())
    assert len(facts) == SEEDED + len(ready)
    assert {"executive", "kickoff", "weekly_team", "one_on_one", "quarter_review", "culture"} <= kinds
    assert len(tasks) == 2  # some done, some open
    allowed = Counter()
    for engagement_id, engagement_facts in facts.items():
        for transition in machine.readiness(engagement_facts).transitions:
            allowed[(phases[engagement_id], transition.allowed)] += 1
    assert allowed[("q1_cycle", True)] >= 1 and allowed[("q1_cycle", False)] >= 1

    # The API answers for an engagement of every phase, with its open tasks, readiness and health.
    first_of_phase = {phase: engagement_id for engagement_id, phase in sorted(phases.items(), reverse=True)}
    for phase, engagement_id in first_of_phase.items():
        for path in ("", "/readiness", "/health"):
            answer = app_client.get(f"/api/v1/engagements/{engagement_id}{path}", headers=auth(tokens.admin))
            assert answer.status_code == 200, (phase, path, answer.text)

    # The heavy gate on an engagement seeded ready for it: every criterion passes on a full quarter's records.
    engagement_id = ready[0]
    readiness = app_client.get(f"/api/v1/engagements/{engagement_id}/readiness", headers=auth(tokens.admin)).json()
    gate = _end_q1(readiness)
    assert gate["allowed"] and gate["passed"] == gate["total"] == 4
    evidence = {c["id"]: c["evidence"] for c in gate["criteria"]}
    assert evidence["q1_check_ins"]["periods_elapsed"] == 13 and evidence["q1_check_ins"]["key_results"] == 16
    assert evidence["q1_team_meetings"]["expected_each"] == 13
    assert all(count >= 6 for count in evidence["q1_one_on_ones"]["held"].values())
    moved = app_client.post(f"/api/v1/engagements/{engagement_id}/transitions", json={"trigger": "end_q1"},
                            headers=auth(tokens.admin))
    assert moved.status_code == 200, moved.text
    assert moved.json()["engagement"]["phase"] == "quarter_review"
    assert {task["key"] for task in moved.json()["engagement"]["open_tasks"]} == {
        "score_okrs", "decide_okrs", "hold_quarter_review"}

    # The mid-quarter engagement is refused: Q1 has not ended.
    lagging = next(i for i, phase in sorted(phases.items()) if phase == "q1_cycle" and i not in ready
                   and not _end_q1(app_client.get(f"/api/v1/engagements/{i}/readiness",
                                                  headers=auth(tokens.admin)).json())["allowed"])
    refused = app_client.post(f"/api/v1/engagements/{lagging}/transitions", json={"trigger": "end_q1"},
                              headers=auth(tokens.admin))
    assert refused.status_code == 409
