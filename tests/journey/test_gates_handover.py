"""Gate checks of the hand-over: internal coaches, the OKR Master, and the pilot's success.

Each kind: a passing case, a failing case, and the exact threshold (the edge
passes, one step beyond fails), asserting the verdict, the English reason, a
real zh-TW reason, and the evidence the decision was made on.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from okr_rollout.journey import gates
from okr_rollout.journey.facts import AppointmentFacts, EngagementFacts, OkrFacts, QuarterFacts
from okr_rollout.playbooks import kinds
from tests.journey.factories import appointment, assert_result, at, facts, okr, person, quarter

HANDOVER_KINDS = ["internal_coaches", "okr_master", "pilot_completed"]


@pytest.mark.parametrize("kind", HANDOVER_KINDS)
def test_handover_kind_is_registered_from_the_handover_module(kind: str) -> None:
    assert gates.CHECKS[kind].__module__ == "okr_rollout.journey.checks.handover"


# --- internal_coaches -----------------------------------------------------------------------

TWO_TRAINED = kinds.InternalCoaches(min_coaches=2, trained=True)


def _coaches(*appointments: AppointmentFacts) -> EngagementFacts:
    return facts(appointments=appointments)


def test_internal_coaches_pass_with_enough_trained_coaches() -> None:
    f = _coaches(appointment(12, "internal_coach", trained=True), appointment(4, "internal_coach", trained=True),
                 appointment(7, "internal_coach", trained=True))
    result = gates.check("internal_coaches", f, TWO_TRAINED)
    assert_result(result, passed=True, en="3 trained internal coach(es); at least 2 needed",
                  evidence={"appointed": [4, 7, 12], "trained": [4, 7, 12], "untrained": [], "required": 2,
                            "must_be_trained": True})


def test_internal_coaches_fail_when_appointed_coaches_are_untrained() -> None:
    f = _coaches(appointment(12, "internal_coach", trained=True), appointment(4, "internal_coach"),
                 appointment(9, "okr_master", trained=True))
    result = gates.check("internal_coaches", f, TWO_TRAINED)
    assert_result(result, passed=False, en="1 trained internal coach(es); at least 2 needed",
                  evidence={"appointed": [4, 12], "trained": [12], "untrained": [4], "required": 2})


def test_internal_coaches_untrained_count_when_training_is_not_required() -> None:
    f = _coaches(appointment(12, "internal_coach", trained=True), appointment(4, "internal_coach"))
    result = gates.check("internal_coaches", f, kinds.InternalCoaches(min_coaches=2, trained=False))
    assert_result(result, passed=True, en="2 internal coach(es) appointed; at least 2 needed",
                  evidence={"appointed": [4, 12], "untrained": [4], "must_be_trained": False})


@pytest.mark.parametrize(("trained", "ok"), [([4, 12], True), ([12], False)])
def test_internal_coaches_exactly_min_coaches(trained: list[int], ok: bool) -> None:
    f = _coaches(*(appointment(p, "internal_coach", trained=True) for p in trained))
    result = gates.check("internal_coaches", f, TWO_TRAINED)
    assert_result(result, passed=ok, en=f"{len(trained)} trained internal coach(es); at least 2 needed",
                  evidence={"trained": trained, "required": 2})


# --- okr_master -----------------------------------------------------------------------------

MASTER_READY = kinds.OkrMaster(ready=True)


def test_okr_master_passes_when_ready() -> None:
    f = facts(people=[person(5)], appointments=[appointment(5, "okr_master", ready=True)])
    result = gates.check("okr_master", f, MASTER_READY)
    assert_result(result, passed=True, en="The OKR Master, Person 5, is ready",
                  evidence={"appointed": [5], "ready": [5]})


def test_okr_master_fails_when_appointed_but_not_ready() -> None:
    result = gates.check("okr_master", facts(people=[person(5)], appointments=[appointment(5, "okr_master")]),
                         MASTER_READY)
    assert_result(result, passed=False, en="appointed but not yet ready", evidence={"appointed": [5], "ready": []})


def test_okr_master_fails_when_nobody_is_appointed() -> None:
    f = facts(appointments=[appointment(6, "internal_coach", trained=True, ready=True)])
    result = gates.check("okr_master", f, MASTER_READY)
    assert_result(result, passed=False, en="No OKR Master is appointed", evidence={"appointed": [], "ready": []})


def test_okr_master_appointment_is_enough_when_readiness_is_not_required() -> None:
    result = gates.check("okr_master", facts(people=[person(5)], appointments=[appointment(5, "okr_master")]),
                         kinds.OkrMaster(ready=False))
    assert_result(result, passed=True, en="An OKR Master is appointed: Person 5",
                  evidence={"appointed": [5], "ready": []})


def test_okr_master_exactly_one_ready_master_of_two_is_enough() -> None:
    f = facts(people=[person(5), person(8)],
              appointments=[appointment(8, "okr_master"), appointment(5, "okr_master", ready=True)])
    result = gates.check("okr_master", f, MASTER_READY)
    assert_result(result, passed=True, en="The OKR Master, Person 5, is ready",
                  evidence={"appointed": [5, 8], "ready": [5]})


# --- pilot_completed ------------------------------------------------------------------------

Q1 = quarter(1, date(2025, 1, 1), date(2025, 3, 31), label="2025-Q1")
Q2 = quarter(2, date(2025, 4, 1), date(2025, 6, 30), label="2025-Q2")
Q3 = quarter(3, date(2025, 7, 1), date(2025, 9, 30), label="2025-Q3")
DECISIONS = ["continue", "abandon", "complete"]
TWO_QUARTERS = kinds.PilotCompleted(quarters=2, min_average_score=0.6, decisions=DECISIONS)
AFTER_Q2 = at(date(2025, 7, 10))


def _pilot(
    *okrs: OkrFacts, now: datetime = AFTER_Q2, quarters: tuple[QuarterFacts, ...] = (Q1, Q2)
) -> EngagementFacts:
    return facts(now=now, quarters=quarters, okrs=okrs)


def _scored(oid: int, quarter_id: int, score: float | None, decision: str | None = "continue") -> OkrFacts:
    return okr(oid, quarter_id, score=score, decision=decision)


def test_pilot_completed_passes_after_two_scored_and_decided_quarters() -> None:
    f = _pilot(_scored(1, 1, 0.7), _scored(2, 1, 1.0, "complete"), _scored(3, 2, 0.3, "abandon"),
               _scored(4, 2, 0.7), _scored(5, 3, None, None), quarters=(Q1, Q2, Q3))
    result = gates.check("pilot_completed", f, TWO_QUARTERS)
    assert_result(result, passed=True,
                  en="The pilot ran 2 quarters, every OKR scored and decided, average 0.68",
                  evidence={"quarters_required": 2, "quarters_recorded": 2, "min_average_score": 0.6,
                            "quarters_running": [], "okrs": 4, "unscored": [], "undecided": [],
                            "average_score": 0.675})


def test_pilot_completed_fails_with_too_few_quarters() -> None:
    result = gates.check("pilot_completed", _pilot(_scored(1, 1, 1.0), quarters=(Q1,)), TWO_QUARTERS)
    assert_result(result, passed=False, en="The pilot runs 2 quarters; 1 recorded so far",
                  evidence={"quarters_required": 2, "quarters_recorded": 1})


@pytest.mark.parametrize(("day", "ok", "en", "running"), [
    (date(2025, 6, 30), False, "2025-Q2 has not ended", ["2025-Q2"]),
    (date(2025, 7, 1), True, "The pilot ran 2 quarters", []),
])
def test_pilot_completed_waits_for_the_last_quarter_to_end(
    day: date, ok: bool, en: str, running: list[str]
) -> None:
    f = _pilot(_scored(1, 1, 1.0), _scored(2, 2, 0.7), now=at(day))
    result = gates.check("pilot_completed", f, TWO_QUARTERS)
    assert_result(result, passed=ok, en=en, evidence={"quarters_running": running, "average_score": 0.85})


def test_pilot_completed_fails_on_unscored_or_undecided_okrs() -> None:
    f = _pilot(_scored(1, 1, 1.0), _scored(2, 1, None), _scored(3, 2, 0.7, None), _scored(4, 2, 0.7, "postpone"))
    result = gates.check("pilot_completed", f, TWO_QUARTERS)
    assert_result(result, passed=False, en="1 OKR(s) unscored and 2 without a decision",
                  evidence={"okrs": 4, "unscored": [2], "undecided": [3, 4], "average_score": 0.8})


def test_pilot_completed_fails_without_okrs() -> None:
    result = gates.check("pilot_completed", _pilot(), TWO_QUARTERS)
    assert_result(result, passed=False, en="no OKRs recorded", evidence={"okrs": 0, "average_score": 0.0})


def test_pilot_completed_fails_on_a_low_average() -> None:
    f = _pilot(_scored(1, 1, 0.3), _scored(2, 2, 0.7))
    result = gates.check("pilot_completed", f, TWO_QUARTERS)
    assert_result(result, passed=False, en="average score 0.50 is below 0.60",
                  evidence={"average_score": 0.5, "min_average_score": 0.6, "unscored": [], "undecided": []})


@pytest.mark.parametrize(("scores", "minimum", "ok"), [
    ((1.0, 0.3), 0.65, True),   # average exactly the minimum
    ((1.0, 0.3), 0.66, False),  # the minimum one hundredth higher
    ((0.7, 0.7), 0.7, True),
    ((0.7, 0.3), 0.7, False),
])
def test_pilot_completed_average_exactly_at_the_minimum(scores: tuple[float, ...], minimum: float, ok: bool) -> None:
    f = _pilot(*(_scored(i, 1 + i % 2, s) for i, s in enumerate(scores, start=1)))
    params = kinds.PilotCompleted(quarters=2, min_average_score=minimum, decisions=DECISIONS)
    result = gates.check("pilot_completed", f, params)
    average = sum(scores) / len(scores)
    assert_result(result, passed=ok,
                  en="every OKR scored and decided" if ok else f"is below {minimum:.2f}",
                  evidence={"average_score": round(average, 3), "min_average_score": minimum})


def test_pilot_completed_three_okrs_all_scored_the_minimum_pass() -> None:
    """Three OKRs each scored 0.7 average exactly 0.7; a pilot needing 0.7 has succeeded.

    In floating point 0.7 + 0.7 + 0.7 == 2.0999999999999996, so a plain ``average < minimum``
    reports "average score 0.70 is below 0.70". quarter_scored already compares scores with a
    tolerance; the average must be compared the same way.
    """
    f = _pilot(_scored(1, 1, 0.7), _scored(2, 1, 0.7), _scored(3, 2, 0.7))
    params = kinds.PilotCompleted(quarters=2, min_average_score=0.7, decisions=DECISIONS)
    result = gates.check("pilot_completed", f, params)
    assert_result(result, passed=True, en="every OKR scored and decided, average 0.70",
                  evidence={"average_score": 0.7, "min_average_score": 0.7, "okrs": 3})


def test_pilot_completed_ignores_quarters_after_the_pilot() -> None:
    f = _pilot(_scored(1, 1, 1.0), _scored(2, 2, 1.0), _scored(3, 3, None, None),
               now=at(date(2025, 7, 2)) + timedelta(hours=1), quarters=(Q3, Q2, Q1))
    result = gates.check("pilot_completed", f, TWO_QUARTERS)
    assert_result(result, passed=True, en="average 1.00",
                  evidence={"okrs": 2, "quarters_running": [], "average_score": 1.0})
