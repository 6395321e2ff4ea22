"""The parameters an engagement's health reads, and what ``playbook validate`` checks of them.

Health (``journey/health.py``) times each phase against its ``expected_days`` and weighs the signals with these
thresholds. A playbook declares them under ``parameters`` like any other; the defaults below are the shipped
playbooks' values, used only for a playbook pinned before it declared them (a snapshot must keep loading).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Problem = tuple[list[int | str], str]

# name -> (type, least value, default)
HEALTH_PARAMETERS: dict[str, tuple[str, float, float]] = {
    # Beyond its expected days a phase is at risk; beyond this many times them it is stuck.
    "health_pace_stuck_factor": ("number", 1, 2.0),
    # CEO support within this many days of fading (ceo_support_max_age_days) puts the engagement at risk.
    "health_ceo_support_warning_days": ("integer", 0, 14),
    # The recent window (days) over which check-ins and meetings are counted: the last two weeks.
    "health_window_days": ("integer", 1, 14),
    # No event for this many days: at risk; for the second number of days: stuck.
    "health_idle_days": ("integer", 1, 14),
    "health_idle_stuck_days": ("integer", 1, 30),
}

# Parameters of the gates and cadences health reuses, with the guide's values for a playbook that lacks them.
SHARED_PARAMETERS: dict[str, float] = {
    "ceo_support_max_age_days": 90,
    "check_in_interval_days": 7,
    "check_in_min_rate": 0.8,
    "team_meeting_interval_days": 7,
    "one_on_one_interval_days": 14,
    "meeting_min_rate": 0.8,
    "small_company_headcount": 6,
    # A milestone whose pulse averages below this rating (of 5) puts the engagement at risk.
    "pulse_low_average": 3.0,
}


def check(doc: dict[str, Any]) -> Iterator[Problem]:
    """Each health parameter a playbook declares has its type and least value; the stuck threshold of idleness
    comes after the at-risk one; a phase declaring ``expected_days`` as a number gives at least one day."""
    parameters = doc.get("parameters")
    declared = parameters if isinstance(parameters, dict) else {}
    for name, (kind, least, _) in HEALTH_PARAMETERS.items():
        parameter = declared.get(name)
        if not isinstance(parameter, dict):
            continue
        if parameter.get("type") != kind:
            yield ["parameters", name, "type"], f"health parameter '{name}' must be of type {kind}"
            continue
        minimum = parameter.get("minimum")
        if not isinstance(minimum, int | float) or minimum < least:
            yield ["parameters", name], f"health parameter '{name}' needs a minimum of at least {least:g}"
    idle, stuck = (declared.get(n) for n in ("health_idle_days", "health_idle_stuck_days"))
    if isinstance(idle, dict) and isinstance(stuck, dict):
        low, high = idle.get("default"), stuck.get("default")
        if isinstance(low, int) and isinstance(high, int) and high <= low:
            yield ["parameters", "health_idle_stuck_days", "default"], (
                f"health_idle_stuck_days ({high}) must be more than health_idle_days ({low})")
    phases = doc.get("phases")
    for index, phase in enumerate(phases if isinstance(phases, list) else []):
        if isinstance(phase, dict) and phase.get("final") is True and phase.get("expected_days") is not None:
            yield ["phases", index, "expected_days"], "a final phase has no expected pace (it never ends)"
