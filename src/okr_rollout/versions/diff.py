"""What changed between two versions of a playbook, in words (English and Traditional Chinese).

Pure: two loaded playbooks in, a list of changes out. Gate criteria and cadences are compared on their
parameters as written *and* as resolved, so a tightened ``$parameter`` default shows on every gate it
tightens. A phase that disappears while another with the same tasks or transitions appears is probably
renamed: the diff suggests it as a phase map, which a migration only uses when asked to.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from okr_rollout.playbooks.loader import LoadedPlaybook
from okr_rollout.playbooks.schema import Phase, Task, Transition
from okr_rollout.texts import LocalizedText
from okr_rollout.versions.texts import ACTIONS, AREAS, joined, show, text_change, value_change

Area = Literal["playbook", "parameter", "phase", "document", "task", "checklist_item", "transition",
               "gate_criterion", "cadence"]
Action = Literal["added", "removed", "changed"]


@dataclass(frozen=True, slots=True)
class Change:
    area: Area
    action: Action
    path: str
    subject: LocalizedText  # what changed, e.g. "Task plan_calendar of phase coach_engaged"
    details: LocalizedText | None = None  # how it changed (for "changed"), or a note

    @property
    def words(self) -> LocalizedText:
        action = ACTIONS[self.action]
        en = f"{self.subject.en} {action.en}"
        zh = f"{action.zh_tw}{self.subject.zh_tw}"
        if self.details is not None:
            en, zh = f"{en}: {self.details.en}", f"{zh}:{self.details.zh_tw}"
        return LocalizedText(en + ".", zh + "。")


@dataclass(frozen=True, slots=True)
class PlaybookDiff:
    playbook_id: str
    from_version: int
    to_version: int
    from_sha256: str
    to_sha256: str
    changes: tuple[Change, ...]
    suggested_phase_map: Mapping[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, dict[str, int]]:
        counted: dict[str, dict[str, int]] = {}
        for change in self.changes:
            area = counted.setdefault(change.area, {"added": 0, "removed": 0, "changed": 0})
            area[change.action] += 1
        return counted


def diff_playbooks(old: LoadedPlaybook, new: LoadedPlaybook) -> PlaybookDiff:
    renames = suggest_phase_map(old, new)
    changes = [
        *_playbook(old, new),
        *_parameters(old, new),
        *_phases(old, new, renames),
        *_transitions(old, new, renames),
        *_cadences(old, new),
        *_wave(old, new),
    ]
    return PlaybookDiff(old.id, old.version, new.version, old.sha256, new.sha256, tuple(changes), renames)


WAVE_JOURNEY = LocalizedText("The wave journey", "擴展梯次流程")


def _wave(old: LoadedPlaybook, new: LoadedPlaybook) -> Iterator[Change]:
    """The wave journey: added or removed whole, else compared as a journey of its own (its phases, tasks,
    transitions, gates and cadences, each change prefixed with ``wave.``)."""
    if not old.waves and not new.waves:
        return
    if not old.waves or not new.waves:
        yield Change("playbook", "added" if new.waves else "removed", "wave", WAVE_JOURNEY)
        return
    before, after = old.wave_journey(None), new.wave_journey(None)
    renames = suggest_phase_map(before, after)
    for change in (*_phases(before, after, renames), *_transitions(before, after, renames),
                   *_cadences(before, after)):
        yield replace(change, path=f"wave.{change.path}",
                      subject=LocalizedText(f"{WAVE_JOURNEY.en}: {change.subject.en}",
                                            f"{WAVE_JOURNEY.zh_tw}:{change.subject.zh_tw}"))
    variants = sorted(set(old.waves) | set(new.waves))
    for key in variants:
        if key and (key in old.waves) != (key in new.waves):
            yield Change("playbook", "added" if key in new.waves else "removed", f"wave.variants.{key}",
                         LocalizedText(f"{WAVE_JOURNEY.en}: the variant {key}", f"{WAVE_JOURNEY.zh_tw}:變體 {key}"))


def suggest_phase_map(old: LoadedPlaybook, new: LoadedPlaybook) -> dict[str, str]:
    """Removed phase -> added phase, when exactly one added phase shares the most tasks and triggers with it."""
    old_ids = {p.id for p in old.spec.phases}
    new_ids = {p.id for p in new.spec.phases}
    removed = [p for p in old.spec.phases if p.id not in new_ids]
    added = [p for p in new.spec.phases if p.id not in old_ids]
    suggestions: dict[str, str] = {}
    taken: set[str] = set()
    for gone in removed:
        scores = sorted(((_likeness(old, gone, new, candidate), candidate.id) for candidate in added
                         if candidate.id not in taken), reverse=True)
        if scores and scores[0][0] > 0 and (len(scores) == 1 or scores[1][0] < scores[0][0]):
            suggestions[gone.id] = scores[0][1]
            taken.add(scores[0][1])
    return suggestions


def _likeness(old: LoadedPlaybook, gone: Phase, new: LoadedPlaybook, candidate: Phase) -> int:
    tasks = {t.id for t in gone.tasks} & {t.id for t in candidate.tasks}
    triggers_old = {t.trigger for t in old.spec.transitions if gone.id in (t.source, t.dest)}
    triggers_new = {t.trigger for t in new.spec.transitions if candidate.id in (t.source, t.dest)}
    return len(tasks) + len(triggers_old & triggers_new)


# --- areas --------------------------------------------------------------------------------------------------


def _playbook(old: LoadedPlaybook, new: LoadedPlaybook) -> Iterator[Change]:
    parts = [w for w in (text_change("title", old.spec.title, new.spec.title),
                         text_change("description", old.spec.description, new.spec.description)) if w]
    if old.spec.start_phase != new.spec.start_phase:
        parts.append(value_change("initial_phase", old.spec.start_phase, new.spec.start_phase))
    if parts:
        yield Change("playbook", "changed", "playbook", LocalizedText(f"Playbook {new.id}", f"手冊 {new.id}"),
                     joined(parts))


def _parameters(old: LoadedPlaybook, new: LoadedPlaybook) -> Iterator[Change]:
    before, after = old.spec.parameters, new.spec.parameters
    for name in _ordered(before, after):
        subject = _subject("parameter", name)
        path = f"parameters.{name}"
        if name not in before:
            yield Change("parameter", "added", path, subject, _default_words(after[name].default))
        elif name not in after:
            yield Change("parameter", "removed", path, subject)
        else:
            parts = [value_change(key, getattr(before[name], key), getattr(after[name], key))
                     for key in ("type", "default", "minimum", "maximum")
                     if getattr(before[name], key) != getattr(after[name], key)]
            described = text_change("description", before[name].description, after[name].description)
            parts += [described] if described else []
            if parts:
                yield Change("parameter", "changed", path, subject, joined(parts))


def _phases(old: LoadedPlaybook, new: LoadedPlaybook, renames: Mapping[str, str]) -> Iterator[Change]:
    before = {p.id: p for p in old.spec.phases}
    after = {p.id: p for p in new.spec.phases}
    renamed_from = {target: source for source, target in renames.items()}
    for phase_id in _ordered(before, after):
        phase = after.get(phase_id) or before[phase_id]
        subject = _subject("phase", phase_id, phase.title)
        path = f"phases.{phase_id}"
        if phase_id not in before:
            note = None
            if phase_id in renamed_from:
                source = renamed_from[phase_id]
                note = LocalizedText(f"probably {source} renamed (same tasks or transitions)",
                                     f"可能是 {source} 改名(任務或轉換相同)")
            yield Change("phase", "added", path, subject, note)
            if phase_id in renamed_from:
                yield from _phase_content(before[renamed_from[phase_id]], phase, path)
        elif phase_id not in after:
            note = None
            if phase_id in renames:
                note = LocalizedText(f"engagements in it need a phase map, e.g. {phase_id} → {renames[phase_id]}",
                                     f"位於此階段的專案需要階段對應,例如 {phase_id} → {renames[phase_id]}")
            yield Change("phase", "removed", path, subject, note)
        else:
            parts = [w for w in (text_change("title", before[phase_id].title, phase.title),
                                 text_change("description", before[phase_id].description, phase.description)) if w]
            if before[phase_id].final != phase.final:
                parts.append(value_change("final", before[phase_id].final, phase.final))
            if parts:
                yield Change("phase", "changed", path, subject, joined(parts))
            yield from _phase_content(before[phase_id], phase, path)


def _phase_content(old: Phase, new: Phase, path: str) -> Iterator[Change]:
    where = LocalizedText(f" of phase {new.id}", f"(階段 {new.id})")
    old_docs, new_docs = {d.id: d for d in old.documents}, {d.id: d for d in new.documents}
    for doc_id in _ordered(old_docs, new_docs):
        doc = new_docs.get(doc_id) or old_docs[doc_id]
        subject = _subject("document", doc_id, doc.title, where)
        doc_path = f"{path}.documents.{doc_id}"
        if doc_id not in old_docs or doc_id not in new_docs:
            yield Change("document", "added" if doc_id in new_docs else "removed", doc_path, subject)
        else:
            parts = [w for w in (text_change("title", old_docs[doc_id].title, doc.title),) if w]
            if old_docs[doc_id].template != doc.template:
                parts.append(value_change("template", old_docs[doc_id].template, doc.template))
            if parts:
                yield Change("document", "changed", doc_path, subject, joined(parts))
    old_tasks, new_tasks = {t.id: t for t in old.tasks}, {t.id: t for t in new.tasks}
    for task_id in _ordered(old_tasks, new_tasks):
        task = new_tasks.get(task_id) or old_tasks[task_id]
        subject = _subject("task", task_id, task.title, where)
        task_path = f"{path}.tasks.{task_id}"
        if task_id not in old_tasks or task_id not in new_tasks:
            yield Change("task", "added" if task_id in new_tasks else "removed", task_path, subject)
            continue
        parts = _task_parts(old_tasks[task_id], task)
        if parts:
            yield Change("task", "changed", task_path, subject, joined(parts))
        yield from _checklist(old_tasks[task_id], task, new.id, task_path)


def _task_parts(old: Task, new: Task) -> list[LocalizedText]:
    parts = [w for w in (text_change("title", old.title, new.title),
                         text_change("description", old.description, new.description)) if w]
    for key in ("role", "due_days"):
        if getattr(old, key) != getattr(new, key):
            parts.append(value_change(key, getattr(old, key), getattr(new, key)))
    return parts


def _checklist(old: Task, new: Task, phase_id: str, task_path: str) -> Iterator[Change]:
    before, after = {i.id: i for i in old.checklist}, {i.id: i for i in new.checklist}
    where = LocalizedText(f" of task {new.id} (phase {phase_id})", f"(階段 {phase_id} 任務 {new.id})")
    for item_id in _ordered(before, after):
        item = after.get(item_id) or before[item_id]
        subject = _subject("checklist_item", item_id, item.title, where)
        path = f"{task_path}.checklist.{item_id}"
        if item_id not in before or item_id not in after:
            yield Change("checklist_item", "added" if item_id in after else "removed", path, subject)
        elif (words := text_change("title", before[item_id].title, item.title)) is not None:
            yield Change("checklist_item", "changed", path, subject, words)


def _transitions(old: LoadedPlaybook, new: LoadedPlaybook, renames: Mapping[str, str]) -> Iterator[Change]:
    def key(t: Transition, mapping: Mapping[str, str]) -> tuple[str, str]:
        return mapping.get(t.source, t.source), t.trigger

    before = {key(t, renames): t for t in old.spec.transitions}
    after = {key(t, {}): t for t in new.spec.transitions}
    for source, trigger in _ordered(before, after):
        transition = after.get((source, trigger)) or before[(source, trigger)]
        subject = _transition_subject(transition)
        path = f"transitions.{source}.{trigger}"
        if (source, trigger) not in before or (source, trigger) not in after:
            action: Action = "added" if (source, trigger) in after else "removed"
            yield Change("transition", action, path, subject)
            continue
        was = before[(source, trigger)]
        parts = [w for w in (text_change("title", was.title, transition.title),) if w]
        if was.dest != transition.dest:
            parts.append(value_change("dest", was.dest, transition.dest))
        if was.source != transition.source:
            parts.append(value_change("source", was.source, transition.source))
        if parts:
            yield Change("transition", "changed", path, subject, joined(parts))
        yield from _gate(old, was, new, transition, path)


def _gate(old: LoadedPlaybook, was: Transition, new: LoadedPlaybook, now: Transition, path: str) -> Iterator[Change]:
    raw_before, raw_after = {c.id: c for c in was.gate}, {c.id: c for c in now.gate}
    resolved_before = {c.id: c for c in old.gate(was.source, was.trigger)}
    resolved_after = {c.id: c for c in new.gate(now.source, now.trigger)}
    where = LocalizedText(f" of {now.trigger} ({now.source} → {now.dest})",
                          f"(轉換 {now.trigger}:{now.source} → {now.dest})")
    for criterion_id in _ordered(raw_before, raw_after):
        criterion = raw_after.get(criterion_id) or raw_before[criterion_id]
        subject = _subject("gate_criterion", criterion_id, criterion.title, where)
        criterion_path = f"{path}.gate.{criterion_id}"
        if criterion_id not in raw_before or criterion_id not in raw_after:
            action: Action = "added" if criterion_id in raw_after else "removed"
            yield Change("gate_criterion", action, criterion_path, subject, LocalizedText(f"kind {criterion.kind}",
                                                                                 f"種類 {criterion.kind}"))
            continue
        a, b = raw_before[criterion_id], criterion
        parts = [value_change(k, getattr(a, k), getattr(b, k)) for k in ("kind", "severity")
                 if getattr(a, k) != getattr(b, k)]
        parts += [w for w in (text_change("title", a.title, b.title),) if w]
        parts += _params(a.params, b.params, resolved_before[criterion_id].params.model_dump(),
                         resolved_after[criterion_id].params.model_dump())
        if parts:
            yield Change("gate_criterion", "changed", criterion_path, subject, joined(parts))


def _cadences(old: LoadedPlaybook, new: LoadedPlaybook) -> Iterator[Change]:
    raw_before, raw_after = {c.id: c for c in old.spec.cadences}, {c.id: c for c in new.spec.cadences}
    resolved_before, resolved_after = {c.id: c for c in old.cadences}, {c.id: c for c in new.cadences}
    for cadence_id in _ordered(raw_before, raw_after):
        cadence = raw_after.get(cadence_id) or raw_before[cadence_id]
        subject = _subject("cadence", cadence_id)
        path = f"cadences.{cadence_id}"
        if cadence_id not in raw_before or cadence_id not in raw_after:
            yield Change("cadence", "added" if cadence_id in raw_after else "removed", path, subject)
            continue
        a = raw_before[cadence_id]
        parts = [value_change(k, getattr(a, k), getattr(cadence, k)) for k in ("kind", "audience")
                 if getattr(a, k) != getattr(cadence, k)]
        if a.phases != cadence.phases:
            parts.append(_phases_words(a.phases, cadence.phases))
        parts += [w for w in (text_change("message", a.message, cadence.message),) if w]
        parts += _params(a.params, cadence.params, resolved_before[cadence_id].params.model_dump(),
                         resolved_after[cadence_id].params.model_dump())
        if parts:
            yield Change("cadence", "changed", path, subject, joined(parts))


# --- helpers ------------------------------------------------------------------------------------------------


def _params(raw_before: Mapping[str, Any], raw_after: Mapping[str, Any], resolved_before: Mapping[str, Any],
            resolved_after: Mapping[str, Any]) -> list[LocalizedText]:
    parts: list[LocalizedText] = []
    for name in _ordered(resolved_before, resolved_after):
        was, now = resolved_before.get(name), resolved_after.get(name)
        written_was, written_now = raw_before.get(name), raw_after.get(name)
        if was != now:
            words = value_change(name, was, now)
            if written_was == written_now and isinstance(written_now, str) and written_now.startswith("$"):
                words = LocalizedText(f"{words.en} (through parameter {written_now})",
                                      f"{words.zh_tw}(經由參數 {written_now})")
            parts.append(words)
        elif written_was != written_now:
            parts.append(LocalizedText(
                f"{name} written {show(written_was)} → {show(written_now)} (same value {show(now)})",
                f"{name} 寫法 {show(written_was)} → {show(written_now)}(值不變 {show(now)})"))
    return parts


def _phases_words(before: list[str], after: list[str]) -> LocalizedText:
    added = [p for p in after if p not in before]
    removed = [p for p in before if p not in after]
    en = ", ".join([f"+{p}" for p in added] + [f"-{p}" for p in removed]) or "reordered"
    zh = ",".join([f"新增 {p}" for p in added] + [f"移除 {p}" for p in removed]) or "順序調整"
    return LocalizedText(f"phases: {en}", f"適用階段:{zh}")


def _default_words(default: Any) -> LocalizedText:
    return LocalizedText(f"default {show(default)}", f"預設值 {show(default)}")


def _subject(area: str, ident: str, title: LocalizedText | None = None, where: LocalizedText | None = None
             ) -> LocalizedText:
    label = AREAS[area]
    en, zh = f"{label.en} {ident}", f"{label.zh_tw} {ident}"
    if title is not None:
        en, zh = f"{en} ({title.en})", f"{zh}({title.zh_tw})"
    if where is not None:
        en, zh = en + where.en, zh + where.zh_tw
    return LocalizedText(en, zh)


def _transition_subject(transition: Transition) -> LocalizedText:
    arrow = f"{transition.source} → {transition.dest}"
    return LocalizedText(f"Transition {transition.trigger} ({arrow})", f"轉換 {transition.trigger}({arrow})")


def _ordered(before: Mapping[Any, Any], after: Mapping[Any, Any]) -> list[Any]:
    """Keys of both, in the new version's order, then the removed ones in the old version's order."""
    return list(after) + [k for k in before if k not in after]
