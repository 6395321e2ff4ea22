"""The rules records are validated against, read from the engagement's pinned playbook.

Every number comes from a playbook parameter, looked up by name. A playbook that leaves a parameter out
does not enforce that rule (the value is None), rather than falling back to a number written in Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from okr_rollout.playbooks import LoadedPlaybook, vocabulary
from okr_rollout.playbooks.kinds import MeetingOutcomes
from okr_rollout.playbooks.schema import AttendeeRule
from okr_rollout.texts import LocalizedText, listed

# The states of a meeting or a training session: entered ahead as planned, then held or cancelled. Only a held one
# counts for a gate.
PLANNED, HELD, CANCELLED = "planned", "held", "cancelled"
STATUSES = (PLANNED, HELD, CANCELLED)
STATUS_TITLES = {PLANNED: LocalizedText("planned", "已排定"), HELD: LocalizedText("held", "已舉行"),
                 CANCELLED: LocalizedText("cancelled", "已取消")}


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
    # meeting kind -> the outcomes it may record: those the playbook declares for it (every declared kind is
    # here), or, from a playbook declaring none, those its gates ask of it
    meeting_outcomes: dict[str, frozenset[str]] = field(default_factory=dict)
    # The meeting kinds the playbook declares (None: it declares none, so every kind is recorded)
    meeting_kinds: frozenset[str] | None = None
    # meeting kind -> who leads it and how many others attend (a 1:1)
    attendee_rules: dict[str, AttendeeRule] = field(default_factory=dict)
    okr_key_results_warn_only: bool = False

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
        declared = playbook.spec.meeting_kinds
        if declared is not None:
            for kind, kind_rules in declared.items():
                outcomes[kind].update(kind_rules.outcomes)
        else:
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
            meeting_kinds=frozenset(declared) if declared is not None else None,
            attendee_rules={kind: r.attendees for kind, r in (declared or {}).items() if r.attendees is not None},
            okr_key_results_warn_only=values.get("okr_key_results_warn_only") is True,
        )


# --- the rules themselves: pure, each returning what is wrong (a Breach) or what follows -------------------------


@dataclass(frozen=True, slots=True)
class Breach:
    """A rule a record breaks: the field (``body.x``), what is wrong in English and Traditional Chinese, and the
    rule's name (the problem's ``errors[].type``)."""

    field: str
    message: LocalizedText
    rule: str


@dataclass(frozen=True, slots=True)
class Attendee:
    """An attendee as the attendee rule sees them: the roles by which they may lead (their own roles, ``coach``
    for the engagement's coach, ``department_lead`` for whoever leads a department), the departments they lead
    and belong to."""

    id: int
    roles: frozenset[str]
    leads: frozenset[int] = frozenset()
    member_of: frozenset[int] = frozenset()


def meeting_outcome_breaches(rules: RecordRules, kind: str, outcomes: Sequence[str]) -> list[Breach]:
    """Every outcome a meeting of ``kind`` may not record (each kind its own, as the playbook declares)."""
    known = rules.meeting_outcomes.get(kind)
    if known is None:
        return []  # a playbook declaring no kinds, and no gate asking this kind for outcomes
    title = vocabulary.meeting_kind(kind)
    choices = listed([vocabulary.outcome(o) for o in sorted(known)], limit=len(known))
    message = (LocalizedText(f"not an outcome of the {title.en}; its outcomes: {choices.en}",
                             f"不是{title.zh_tw}的成果;其成果為:{choices.zh_tw}") if known else
               LocalizedText(f"the {title.en} records no outcomes", f"{title.zh_tw}不記錄成果"))
    return [Breach(f"body.outcomes[{i}]", message, "unknown_outcome")
            for i, outcome in enumerate(outcomes) if outcome not in known]


def meeting_kind_breach(rules: RecordRules, kind: str) -> Breach | None:
    if rules.meeting_kinds is None or kind in rules.meeting_kinds:
        return None
    kinds = listed([vocabulary.meeting_kind(k) for k in sorted(rules.meeting_kinds)], limit=len(rules.meeting_kinds))
    return Breach("body.kind", LocalizedText(f"not a meeting kind of this playbook; its kinds: {kinds.en}",
                                             f"不是此手冊的會議種類;其種類為:{kinds.zh_tw}"), "unknown_meeting_kind")


def counted_attendees(rule: AttendeeRule, kind: str, attendees: Sequence[Attendee]) -> tuple[list[int], Breach | None]:
    """Whom a meeting under an attendee rule counts for: every attendee but the one who leads it. A breach when
    there is not exactly one leader and ``rule.others`` more, or nobody who may lead.

    When several attendees may lead, the one leading a department another attendee belongs to leads (the
    Sales lead in a 1:1 with a Sales member), then the one whose role comes first in ``led_by``."""
    title = vocabulary.meeting_kind(kind)
    roles = [vocabulary.leader_role(r) for r in rule.led_by]
    leaders_said = LocalizedText(
        roles[0].en if len(roles) == 1 else ", ".join(r.en for r in roles[:-1]) + " or " + roles[-1].en,
        "或".join(r.zh_tw for r in roles))
    if len(attendees) != rule.others + 1:
        return [], Breach("body.attendee_ids", LocalizedText(
            f"a {title.en} has one person leading it ({leaders_said.en}) and exactly {rule.others} other "
            f"attendee{'s' if rule.others != 1 else ''}; {len(attendees)} {'is' if len(attendees) == 1 else 'are'} "
            "listed",
            f"{title.zh_tw}應由一人主持({leaders_said.zh_tw}),另有恰好 {rule.others} 位與會者;"
            f"目前列出 {len(attendees)} 人"), "attendee_count")
    order = {role: index for index, role in enumerate(rule.led_by)}
    candidates = [a for a in attendees if a.roles & set(rule.led_by)]
    if not candidates:
        return [], Breach("body.attendee_ids", LocalizedText(
            f"one attendee of a {title.en} leads it: {leaders_said.en}; none of these may",
            f"{title.zh_tw}須由一位與會者主持:{leaders_said.zh_tw};目前沒有人符合"), "attendee_leader")
    others_departments = {a.id: set().union(*(b.member_of for b in attendees if b.id != a.id)) for a in candidates}
    leader = min(candidates, key=lambda a: (not (a.leads & others_departments[a.id]),
                                            min(order[r] for r in a.roles if r in order)))
    return [a.id for a in attendees if a.id != leader.id], None


def key_result_breaches(key_results: Sequence[tuple[float, float]], field_of: str) -> list[Breach]:
    """A key result moves from its start to its target: the two must differ (``field_of`` is formatted with each
    key result's index)."""
    return [Breach(field_of.format(index), LocalizedText(
        f"the target {target:g} equals the start {start:g}; a key result measures a change",
        f"目標 {target:g} 與起始值 {start:g} 相同;關鍵結果衡量的是變化"), "target_equals_start")
        for index, (start, target) in enumerate(key_results) if start == target]


def okr_owner_breach(owner_id: int | None, department_id: int | None) -> Breach | None:
    if owner_id is None and department_id is None:
        return Breach("body.owner_id", LocalizedText("an OKR needs an owner or a department",
                                                     "OKR 需要負責人或所屬部門"), "owner_or_department")
    return None


def okr_key_result_breach(key_results: int, quarter_label: str, quarter_starts_on: date, today: date
                          ) -> Breach | None:
    """An OKR has at least one key result once its quarter has started (before, it may still be drafted)."""
    if key_results or today < quarter_starts_on:
        return None
    return Breach("body.key_results", LocalizedText(
        f"{quarter_label} started on {quarter_starts_on.isoformat()}; an OKR of a started quarter needs at least "
        "one key result",
        f"{quarter_label} 已於 {quarter_starts_on.isoformat()} 開始;已開始季度的 OKR 至少需要一個關鍵結果"),
        "okr_without_key_results")
