"""The gate checks, loaded: every kind of ``journey/checks/*`` registered, and the one way to run one.

The shared vocabulary (``CriterionResult``, ``passed``/``failed``/``verdict``, ``gate_kind``) lives in
``journey/criteria.py``, which the checks import; this module imports the checks, never the other way.
"""

from __future__ import annotations

# The checks register themselves on import; they live in their own modules by stage.
from okr_rollout.journey.checks import cycle, handover, setup  # noqa: F401
from okr_rollout.journey.criteria import CHECKS, CLOCKED, READS, Check, CriterionResult
from okr_rollout.journey.facts import EngagementFacts
from okr_rollout.playbooks.kinds import KindParams

__all__ = ["CHECKS", "CLOCKED", "READS", "Check", "CriterionResult", "check"]


def check(kind: str, facts: EngagementFacts, params: KindParams) -> CriterionResult:
    return CHECKS[kind](facts, params)
