"""Arithmetic of scores and check-ins shared by the gate checks and the services that record and review a
quarter, so that a recorded score and a gate agree on what "on the scale" and "on time" mean. Pure."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date

from okr_rollout.journey.facts import QuarterFacts

# Scores are floats from a playbook's scale (0.3, 0.7…); two scores this close are the same point of it.
SCORE_TOLERANCE = 1e-6


def elapsed_days(quarter: QuarterFacts, today: date) -> int:
    """Days of the quarter up to and including ``today`` (0 before it starts, its length once it ended)."""
    end = min(quarter.ends_on, today)
    return max(0, (end - quarter.starts_on).days + 1)


def check_in_coverage(
    quarter: QuarterFacts, today: date, interval_days: int, key_result_ids: Collection[int],
    check_ins: Iterable[tuple[int, date]],
) -> tuple[int, int, int]:
    """(periods elapsed, periods covered by a check-in, periods possible) over the given key results.

    A quarter is cut into periods of ``interval_days`` from its start; a key result is on time in a period
    when it has at least one check-in dated in it. Only whole elapsed periods count.
    """
    expected = elapsed_days(quarter, today) // interval_days
    periods: dict[int, set[int]] = {kr: set() for kr in key_result_ids}
    for key_result_id, week_of in check_ins:
        if key_result_id in periods:
            period = (week_of - quarter.starts_on).days // interval_days
            if 0 <= period < expected:
                periods[key_result_id].add(period)
    return expected, sum(len(p) for p in periods.values()), expected * len(periods)
