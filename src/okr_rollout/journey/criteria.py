"""What a gate criterion answers, and the registry its kinds enter.

Each kind is a pure function ``check(facts, params) -> CriterionResult``: it
reads only the immutable facts and the criterion's resolved params, and says
why in English and Traditional Chinese, with the numbers and ids it used.
Each kind declares the groups of facts it reads, so that a transition loads
those and nothing more; a group it did not declare raises when read.

The checks (``journey/checks/*``) import this module to register; ``journey/gates.py`` imports the checks
to load them. Nothing here imports a check, so the arrow runs one way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from okr_rollout.journey.facts import FACT_GROUPS, EngagementFacts
from okr_rollout.playbooks.kinds import GATE_KINDS, KindParams
from okr_rollout.texts import LocalizedText


@dataclass(frozen=True, slots=True)
class CriterionResult:
    passed: bool
    reason: LocalizedText
    evidence: Mapping[str, Any] = field(default_factory=dict)


def passed(en: str, zh_tw: str, **evidence: Any) -> CriterionResult:
    return CriterionResult(True, LocalizedText(en, zh_tw), evidence)


def failed(en: str, zh_tw: str, **evidence: Any) -> CriterionResult:
    return CriterionResult(False, LocalizedText(en, zh_tw), evidence)


def verdict(ok: bool, reason: tuple[str, str], **evidence: Any) -> CriterionResult:
    return CriterionResult(ok, LocalizedText(*reason), evidence)


P = TypeVar("P", bound=KindParams)
Check = Callable[[EngagementFacts, Any], CriterionResult]
CHECKS: dict[str, Check] = {}
READS: dict[str, frozenset[str]] = {}
# Whether a kind's check reads the clock (``facts.now``, ``facts.today``): one that does not gives the same outcome
# at any moment on the same facts, so a look ahead in time keeps its outcome instead of checking again.
CLOCKED: dict[str, bool] = {}


def gate_kind(
    name: str, params: type[P], *, reads: tuple[str, ...], clocked: bool = True
) -> Callable[[Callable[[EngagementFacts, P], CriterionResult]], Check]:
    """Register the check of one kind; ``params`` must be the model the playbook language declares, and
    ``reads`` names every group of facts (``FACT_GROUPS``) the check reads, helpers of the facts included.
    ``clocked=False`` declares that the check never reads the clock (``facts.now``, ``facts.today``)."""
    if GATE_KINDS.get(name) is not params:
        raise ValueError(f"gate kind {name!r} is not declared with {params.__name__} in playbooks.kinds")
    unknown = sorted(set(reads) - set(FACT_GROUPS))
    if unknown:
        raise ValueError(f"gate kind {name!r} reads unknown groups of facts {unknown}")

    def register(check: Callable[[EngagementFacts, P], CriterionResult]) -> Check:
        if name in CHECKS:
            raise ValueError(f"gate kind {name!r} registered twice")
        CHECKS[name] = check
        READS[name] = frozenset(reads)
        CLOCKED[name] = clocked
        return check

    return register
