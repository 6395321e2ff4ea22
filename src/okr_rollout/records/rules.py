"""The rules records are validated against, read from the engagement's pinned playbook.

Every number comes from a playbook parameter, looked up by name. A playbook that leaves a parameter out
does not enforce that rule (the value is None), rather than falling back to a number written in Python.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from okr_rollout.playbooks import LoadedPlaybook
from okr_rollout.playbooks.kinds import MeetingOutcomes


@dataclass(frozen=True, slots=True)
class ScoreBands:
    yellow_from: float
    green_from: float
    sweet_spot: tuple[float, float] | None
    sandbagging_above: float | None

    def band(self, score: float) -> str:
        if score >= self.green_from:
            return "green"
        return "yellow" if score >= self.yellow_from else "red"


@dataclass(frozen=True, slots=True)
class RecordRules:
    training_modules: tuple[str, ...] | None = None
    drafting_group_size: tuple[int, int] | None = None
    drafting_group_size_warn_only: bool = False
    check_in_confidence_max: float | None = None
    check_in_interval_days: int | None = None
    score_scale: tuple[float, ...] | None = None
    decisions: tuple[str, ...] | None = None
    carry_decision: str | None = None
    next_quarter_max_days: int | None = None
    # days before a quarter's end its OKRs may be scored (None: no such rule in the playbook)
    scoring_early_days: int | None = None
    ceo_support_max_age_days: int | None = None
    bands: ScoreBands | None = None
    # meeting kind -> the outcomes the playbook's gates ask of it
    meeting_outcomes: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, playbook: LoadedPlaybook) -> RecordRules:
        values = playbook.parameters

        def number(name: str) -> float | None:
            value = values.get(name)
            return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

        def integer(name: str) -> int | None:
            value = values.get(name)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        def strings(name: str) -> tuple[str, ...] | None:
            value = values.get(name)
            return tuple(str(v) for v in value) if isinstance(value, list) else None

        def text(name: str) -> str | None:
            value = values.get(name)
            return value if isinstance(value, str) else None

        scale = values.get("score_scale")
        low, high = integer("drafting_group_min_size"), integer("drafting_group_max_size")
        yellow, green = number("score_band_yellow_from"), number("score_band_green_from")
        sweet_low, sweet_high = number("stretch_sweet_spot_min"), number("stretch_sweet_spot_max")
        decisions = strings("okr_decisions")
        outcomes: dict[str, set[str]] = defaultdict(set)
        for criteria in playbook.gates.values():
            for criterion in criteria:
                if isinstance(criterion.params, MeetingOutcomes):
                    outcomes[criterion.params.meeting_kind].update(criterion.params.outcomes)
        return cls(
            training_modules=strings("training_modules"),
            drafting_group_size=(low, high) if low is not None and high is not None else None,
            drafting_group_size_warn_only=values.get("drafting_group_size_warn_only") is True,
            check_in_confidence_max=number("check_in_confidence_max"),
            check_in_interval_days=integer("check_in_interval_days"),
            score_scale=tuple(float(s) for s in scale) if isinstance(scale, list) else None,
            decisions=decisions,
            carry_decision=text("carry_over_decision"),
            next_quarter_max_days=integer("next_quarter_max_days"),
            scoring_early_days=integer("scoring_early_days"),
            ceo_support_max_age_days=integer("ceo_support_max_age_days"),
            bands=ScoreBands(
                yellow, green,
                (sweet_low, sweet_high) if sweet_low is not None and sweet_high is not None else None,
                number("sandbagging_average_above"),
            ) if yellow is not None and green is not None else None,
            meeting_outcomes={kind: frozenset(found) for kind, found in outcomes.items()},
        )
