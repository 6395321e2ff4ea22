"""How a gate reason lists what it names: people and departments by their names, playbook keys by their titles.

A reason is read by a person; the ids and keys a check decided on go to its evidence, for programs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from okr_rollout.journey.facts import EngagementFacts
from okr_rollout.texts import LocalizedText

# A reason names at most this many people, groups or items and counts the rest, so that a gate over a large
# pilot stays one readable line; the evidence holds every id.
NAMES_SHOWN = 5


def listed(items: Sequence[LocalizedText], *, limit: int = NAMES_SHOWN) -> LocalizedText:
    """``A, B and C`` / ``A、B、C``; beyond ``limit`` items, ``A, B, C, D, E and 3 more`` / ``A、B、C、D、E 等 8 項``."""
    shown = list(items[:limit])
    rest = len(items) - len(shown)
    if not shown:
        return LocalizedText("none", "無")
    en_parts = [item.en for item in shown]
    if rest:
        en = ", ".join(en_parts) + f" and {rest} more"
        zh = "、".join(item.zh_tw for item in shown) + f" 等 {len(items)} 項"
    else:
        en = en_parts[0] if len(en_parts) == 1 else ", ".join(en_parts[:-1]) + " and " + en_parts[-1]
        zh = "、".join(item.zh_tw for item in shown)
    return LocalizedText(en, zh)


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
        return LocalizedText(f"the {department.en} group", f"{department.zh_tw}小組")
    members = listed(by_name(people(facts, member_ids)), limit=3)
    return LocalizedText(f"the group of {members.en}", f"{members.zh_tw} 的小組")
