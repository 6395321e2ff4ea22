"""A gate kind declared ``clocked=False`` never reads the clock: a look ahead in time keeps its outcome instead of
checking it again, so a wrong declaration would keep a stale verdict. Each such kind of the shipped playbooks is
checked on facts whose ``now`` raises when read, and the look ahead gives what checking everything gives."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from okr_rollout.journey.criteria import CLOCKED
from okr_rollout.journey.facts import EngagementFacts
from okr_rollout.journey.gates import check
from okr_rollout.journey.machine import machine_for
from okr_rollout.playbooks import LoadedPlaybook
from tests.conftest import playbooks_catalog
from tests.journey.factories import (
    NOW,
    TODAY,
    appointment,
    ceo,
    check_in,
    department,
    facts,
    group,
    key_result,
    okr,
    person,
    quarter,
)


class _ClockRead(AssertionError):
    pass


class _UnreadableNow(datetime):
    """A moment that fails the test whenever a check uses it (compares, subtracts, converts or reads it)."""

    def _read(self, *_: Any, **__: Any) -> Any:
        raise _ClockRead("the check read the clock")

    __lt__ = __le__ = __gt__ = __ge__ = __sub__ = __rsub__ = __add__ = __radd__ = _read  # type: ignore[assignment]
    astimezone = date = timestamp = _read  # type: ignore[assignment]


def _playbooks() -> list[LoadedPlaybook]:
    return list(playbooks_catalog().registry.all())


def _rich_facts(now: datetime) -> EngagementFacts:
    q1 = quarter(1, TODAY - timedelta(days=30), TODAY + timedelta(days=60))
    return facts(
        now=now,
        coach_ids=[900],
        departments=[department(10, pilot=True, lead_id=1), department(20, pilot=False)],
        people=[person(1, 10, roles=["department_lead"]), person(2, 10), person(3, 20, roles=["ceo"])],
        ceo_support=[ceo("full", TODAY - timedelta(days=10))],
        drafting_groups=[group(1, [1, 2], TODAY - timedelta(days=40), TODAY - timedelta(days=20), department_id=10)],
        quarters=[q1],
        okrs=[okr(1, q1.id, owner_id=2, department_id=10, score=0.7, decision="keep"),
              okr(2, q1.id, owner_id=1, department_id=10)],
        key_results=[key_result(1, 1)],
        check_ins=[check_in(1, TODAY - timedelta(days=3))],
        appointments=[appointment(2, "internal_coach", trained=True, ready=True), appointment(1, "okr_master")],
    )


def _with(engagement: EngagementFacts, **changes: Any) -> EngagementFacts:
    return EngagementFacts(**{**{name: getattr(engagement, name) for name in engagement.__dataclass_fields__},
                              **changes})


def test_the_kinds_declared_not_to_read_the_clock_do_not() -> None:
    unclocked = sorted(kind for kind, clocked in CLOCKED.items() if not clocked)
    assert unclocked  # the look ahead has something to keep
    checked: set[str] = set()
    unreadable = _UnreadableNow.fromtimestamp(NOW.timestamp(), NOW.tzinfo)
    for playbook in _playbooks():
        for criteria in playbook.gates.values():
            for criterion in criteria:
                if criterion.kind in unclocked:
                    check(criterion.kind, _with(_rich_facts(NOW), now=unreadable), criterion.params)
                    checked.add(criterion.kind)
    assert checked == set(unclocked)  # each declaration was put to the test by a shipped playbook


@pytest.mark.parametrize("days", [1, 45, 120])
def test_the_readiness_later_is_the_readiness_checked_afresh(days: int) -> None:
    for playbook in _playbooks():
        machine = machine_for(playbook)
        for phase in (p.id for p in playbook.spec.phases):
            now = _with(_rich_facts(NOW), phase=phase)
            later = _with(now, now=NOW + timedelta(days=days))
            assert machine.readiness_later(later, machine.readiness(now)) == machine.readiness(later)


def test_a_date_is_unreadable() -> None:
    with pytest.raises(_ClockRead):
        _ = _UnreadableNow.fromtimestamp(NOW.timestamp(), NOW.tzinfo) <= NOW
    assert date(2025, 1, 1) < TODAY
