"""How a gate reason lists what it names: people and departments by their names, playbook keys by their titles.

A reason is read by a person; the ids and keys a check decided on go to its evidence, for programs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from okr_rollout.journey.facts import EngagementFacts
from okr_rollout.texts import NAMES_SHOWN, LocalizedText, listed


def plain(name: str) -> LocalizedText:
    """A name from the organization's data: the same in every language."""
    shown = name.strip() or "?"
    return LocalizedText(shown, shown)


def names(values: Iterable[str], *, limit: int = NAMES_SHOWN) -> LocalizedText:
    return listed([plain(value) for value in values], limit=limit)


_FORMER_MEMBER = LocalizedText("a former member", "已離開的成員")
_FORMER_DEPARTMENT = LocalizedText("a former department", "已撤銷的部門")


def people(facts: EngagementFacts, person_ids: Iterable[int]) -> list[LocalizedText]:
    """These people by name, in the order given (someone no longer among the people as a former member)."""
    by_id: Mapping[int, str] = {person.id: person.name for person in facts.people}
    return [plain(by_id[i]) if i in by_id else _FORMER_MEMBER for i in person_ids]


def departments(facts: EngagementFacts, department_ids: Iterable[int]) -> list[LocalizedText]:
    by_id: Mapping[int, str] = {department.id: department.name for department in facts.departments}
    return [plain(by_id[i]) if i in by_id else _FORMER_DEPARTMENT for i in department_ids]


def by_name(texts: Iterable[LocalizedText]) -> list[LocalizedText]:
    return sorted(texts, key=lambda text: text.en.casefold())


def group_name(facts: EngagementFacts, department_id: int | None, member_ids: Iterable[int]) -> LocalizedText:
    """A drafting group as a person knows it: by its department, else by its members."""
    if department_id is not None:
        department = departments(facts, [department_id])[0]
        return LocalizedText(f"the {department.en} group", f"「{department.zh_tw}」小組")
    members = listed(by_name(people(facts, member_ids)), limit=3)
    return LocalizedText(f"the group of {members.en}", f"{members.zh_tw} 的小組")


_SCOPES = {"pilot": LocalizedText("pilot", "試點"), "wave": LocalizedText("wave", "梯次")}


def scope(facts: EngagementFacts) -> LocalizedText:
    """Whose members and departments a reason names: the pilot's, or an expansion wave's."""
    return _SCOPES.get(facts.scope, _SCOPES["pilot"])
