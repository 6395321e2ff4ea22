"""The machine: readiness evaluates every criterion, fire() moves or refuses, no model stays attached."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta

import pytest

from okr_rollout.journey.facts import EngagementFacts, OrganizationFacts
from okr_rollout.journey.machine import JourneyMachine, Moved, Refused, UnknownTrigger, machine_for
from okr_rollout.playbooks import load_text

PLAYBOOK = """\
id: machine_test
version: 1
title: {en: Machine test, zh-TW: 機器測試}
description: {en: Two gates, zh-TW: 兩道關卡}
parameters:
  min_coaches: {type: integer, default: 1, description: {en: Coaches, zh-TW: 教練}}
  max_headcount: {type: integer, default: 6, description: {en: Headcount, zh-TW: 人數}}
phases:
  - id: a
    title: {en: A, zh-TW: 甲}
  - id: b
    title: {en: B, zh-TW: 乙}
    tasks:
      - id: first
        title: {en: First, zh-TW: 第一}
        due_days: 3
        checklist:
          - {id: one, title: {en: One, zh-TW: 一}}
          - {id: two, title: {en: Two, zh-TW: 二}}
      - id: second
        title: {en: Second, zh-TW: 第二}
        due_days: 10
  - id: c
    title: {en: C, zh-TW: 丙}
    final: true
transitions:
  - trigger: go
    source: a
    dest: b
    gate:
      - {id: coached, kind: coach_assigned, title: {en: Coached, zh-TW: 已指派教練},
         params: {min_coaches: $min_coaches}}
      - {id: small, kind: headcount_at_most, title: {en: Small, zh-TW: 規模小}, params: {max_headcount: $max_headcount}}
      - {id: advice, kind: okr_software_introduced, severity: advisory, title: {en: Software, zh-TW: 軟體}}
  - trigger: skip
    source: a
    dest: c
  - trigger: finish
    source: b
    dest: c
"""

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def facts(phase: str = "a", coaches: int = 0, headcount: int = 20, engagement_id: int = 1) -> EngagementFacts:
    return EngagementFacts(
        engagement_id=engagement_id,
        phase=phase,
        entered_phase_at=NOW - timedelta(days=5),
        now=NOW,
        organization=OrganizationFacts(id=1, name="Acme", headcount=headcount),
        coach_ids=frozenset(range(100, 100 + coaches)),
    )


@pytest.fixture
def machine() -> JourneyMachine:
    return machine_for(load_text(PLAYBOOK, "machine.yaml"))


def test_readiness_evaluates_every_criterion_of_every_transition(machine: JourneyMachine) -> None:
    report = machine.readiness(facts())
    assert [t.trigger for t in report.transitions] == ["go", "skip"]
    go = report.transitions[0]
    assert [c.id for c in go.criteria] == ["coached", "small", "advice"]
    assert [c.passed for c in go.criteria] == [False, False, False]  # no short-circuit after the first
    assert go.allowed is False
    assert report.transitions[1].allowed is True  # no gate


def test_an_advisory_criterion_reports_but_does_not_block(machine: JourneyMachine) -> None:
    go = machine.readiness(facts(coaches=1, headcount=5)).transitions[0]
    assert [c.passed for c in go.criteria] == [True, True, False]
    assert go.criteria[2].severity == "advisory"
    assert go.allowed is True


def test_fire_refuses_with_the_report_and_keeps_the_phase(machine: JourneyMachine) -> None:
    result = machine.fire(facts(coaches=1, headcount=50), "go")
    assert isinstance(result, Refused)
    assert result.source == "a"
    failing = [c for c in result.readiness.criteria if c.blocks]
    assert [c.id for c in failing] == ["small"]
    assert failing[0].evidence == {"headcount": 50, "max_headcount": 6}


def test_fire_moves_and_returns_the_new_phase_tasks(machine: JourneyMachine) -> None:
    result = machine.fire(facts(coaches=2, headcount=4), "go")
    assert isinstance(result, Moved)
    assert (result.source, result.dest) == ("a", "b")
    assert [(t.task_id, t.due_at) for t in result.tasks] == [
        ("first", NOW + timedelta(days=3)),
        ("second", NOW + timedelta(days=10)),
    ]
    assert [item_id for item_id, _ in result.tasks[0].checklist] == ["one", "two"]
    assert result.tasks[0].title.zh_tw == "第一"


def test_a_trigger_that_does_not_leave_the_phase_is_refused_as_unknown(machine: JourneyMachine) -> None:
    with pytest.raises(UnknownTrigger) as raised:
        machine.fire(facts(phase="b"), "go")
    assert raised.value.available == ["finish"]
    assert machine.readiness(facts(phase="c")).transitions == ()
    with pytest.raises(UnknownTrigger) as from_final:
        machine.fire(facts(phase="c"), "finish")
    assert from_final.value.available == []


def test_one_machine_per_playbook_version_and_it_holds_no_model(machine: JourneyMachine) -> None:
    playbook = load_text(PLAYBOOK, "machine.yaml")
    assert machine_for(playbook) is machine
    other = load_text(PLAYBOOK.replace("version: 1", "version: 2"), "machine.yaml")
    assert machine_for(other) is not machine

    ready = facts(coaches=1, headcount=4)
    for engagement_id in range(10_000):
        result = machine.fire(dataclasses.replace(ready, engagement_id=engagement_id), "go")
        assert isinstance(result, Moved)
    assert machine.machine.models == []


def test_concurrent_fires_do_not_mix_engagements(machine: JourneyMachine) -> None:
    results: dict[int, str] = {}

    def work(engagement_id: int) -> None:
        headcount = 4 if engagement_id % 2 else 40
        outcome = machine.fire(facts(coaches=1, headcount=headcount, engagement_id=engagement_id), "go")
        results[engagement_id] = outcome.dest if isinstance(outcome, Moved) else "refused"

    threads = [threading.Thread(target=work, args=(n,)) for n in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(results[n] == ("b" if n % 2 else "refused") for n in range(200))
    assert machine.machine.models == []
