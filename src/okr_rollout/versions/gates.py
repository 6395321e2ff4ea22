"""What the new version's gates would decide for an engagement, beside what the pinned version decides."""

from __future__ import annotations

from okr_rollout.journey.machine import ReadinessReport, TransitionReadiness
from okr_rollout.texts import LocalizedText
from okr_rollout.versions.schemas import CriterionChange, GateChange, GateVerdict


def compare_gates(before: ReadinessReport, after: ReadinessReport, from_version: int, to_version: int
                  ) -> list[GateChange]:
    """Every way out of the phase, matched by trigger: in the new version's order, then those it drops."""
    old = {t.trigger: t for t in before.transitions}
    new = {t.trigger: t for t in after.transitions}
    triggers = list(new) + [trigger for trigger in old if trigger not in new]
    return [_change(old.get(trigger), new.get(trigger), from_version, to_version) for trigger in triggers]


def _change(old: TransitionReadiness | None, new: TransitionReadiness | None, from_version: int,
            to_version: int) -> GateChange:
    either = new or old
    assert either is not None
    verdict = _verdict(old.allowed if old else None, new.allowed if new else None)
    old_criteria = {c.id: c.passed for c in old.criteria} if old else {}
    new_criteria = {c.id: c.passed for c in new.criteria} if new else {}
    ids = list(new_criteria) + [i for i in old_criteria if i not in new_criteria]
    blocking = [c.reason for c in new.criteria if c.blocks] if new else []
    reasons_en = "; ".join(r.en for r in blocking)
    reasons_zh = ";".join(r.zh_tw for r in blocking)
    name = f"{either.trigger} (→ {either.dest})"
    name_zh = f"{either.trigger}(→ {either.dest})"
    texts: dict[GateVerdict, tuple[str, str]] = {
        "now_passes": (f"{name}: refused under version {from_version}, would now be allowed.",
                       f"{name_zh}:第 {from_version} 版不通過,新版本將可通過。"),
        "now_fails": (f"{name}: allowed under version {from_version}, would now be refused: {reasons_en}.",
                      f"{name_zh}:第 {from_version} 版可通過,新版本將不通過:{reasons_zh}。"),
        "still_passes": (f"{name}: allowed under both versions.", f"{name_zh}:兩個版本皆可通過。"),
        "still_fails": (f"{name}: refused under both versions: {reasons_en}.",
                        f"{name_zh}:兩個版本皆不通過:{reasons_zh}。"),
        "new_passes": (f"{name}: new in version {to_version}, would be allowed.",
                       f"{name_zh}:第 {to_version} 版新增的轉換,將可通過。"),
        "new_fails": (f"{name}: new in version {to_version}, would be refused: {reasons_en}.",
                      f"{name_zh}:第 {to_version} 版新增的轉換,將不通過:{reasons_zh}。"),
        "removed": (f"{name}: no longer a way out in version {to_version}.",
                    f"{name_zh}:第 {to_version} 版已無此轉換。"),
    }
    en, zh = texts[verdict]
    return GateChange(
        trigger=either.trigger, destination=either.dest, before=old.allowed if old else None,
        after=new.allowed if new else None, verdict=verdict,
        criteria=[CriterionChange(id=i, before=old_criteria.get(i), after=new_criteria.get(i)) for i in ids],
        text=LocalizedText(en=en, zh_tw=zh),
    )


def _verdict(before: bool | None, after: bool | None) -> GateVerdict:
    if after is None:
        return "removed"
    if before is None:
        return "new_passes" if after else "new_fails"
    if before == after:
        return "still_passes" if after else "still_fails"
    return "now_passes" if after else "now_fails"
