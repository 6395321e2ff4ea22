"""Words in English and Traditional Chinese for diffs and migration plans."""

from __future__ import annotations

import json
from typing import Any

from okr_rollout.texts import LocalizedText

AREAS: dict[str, LocalizedText] = {
    "playbook": LocalizedText("Playbook", "手冊"),
    "parameter": LocalizedText("Parameter", "參數"),
    "phase": LocalizedText("Phase", "階段"),
    "document": LocalizedText("Document", "文件"),
    "task": LocalizedText("Task", "任務"),
    "checklist_item": LocalizedText("Checklist item", "檢查項目"),
    "transition": LocalizedText("Transition", "轉換"),
    "gate_criterion": LocalizedText("Gate criterion", "關卡條件"),
    "cadence": LocalizedText("Cadence", "提醒節奏"),
}
ACTIONS: dict[str, LocalizedText] = {
    "added": LocalizedText("added", "新增"),
    "removed": LocalizedText("removed", "移除"),
    "changed": LocalizedText("changed", "變更"),
}
FIELDS: dict[str, str] = {
    "title": "標題",
    "description": "說明",
    "initial_phase": "起始階段",
    "type": "型別",
    "default": "預設值",
    "minimum": "最小值",
    "maximum": "最大值",
    "final": "最終階段",
    "role": "負責角色",
    "due_days": "期限天數",
    "source": "來源階段",
    "dest": "目的階段",
    "kind": "種類",
    "severity": "嚴重度",
    "audience": "對象",
    "message": "訊息",
    "phases": "適用階段",
    "template": "範本",
}


def show(value: Any) -> str:
    """A value as a person reads it: texts quoted, lists bracketed, numbers as written."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return str(value)


def value_change(field: str, before: Any, after: Any) -> LocalizedText:
    zh = FIELDS.get(field, field)
    return LocalizedText(f"{field} {show(before)} → {show(after)}", f"{zh} {show(before)} → {show(after)}")


def text_change(field: str, before: LocalizedText | None, after: LocalizedText | None) -> LocalizedText | None:
    """One localized text compared; long texts (descriptions) are only said to be reworded."""
    if before == after:
        return None
    zh = FIELDS.get(field, field)
    if before is None or after is None:
        return LocalizedText(f"{field} {'added' if before is None else 'removed'}",
                             f"{'新增' if before is None else '移除'}{zh}")
    if field == "description":
        return LocalizedText("description reworded", "說明改寫")
    en = (f"{field} {show(before.en)} → {show(after.en)}" if before.en != after.en
          else f"{field} reworded in Chinese")
    zh_text = (f"{zh}「{before.zh_tw}」→「{after.zh_tw}」" if before.zh_tw != after.zh_tw
               else f"{zh}的英文改寫")
    return LocalizedText(en, zh_text)


def joined(parts: list[LocalizedText]) -> LocalizedText:
    return LocalizedText("; ".join(p.en for p in parts), ";".join(p.zh_tw for p in parts))
