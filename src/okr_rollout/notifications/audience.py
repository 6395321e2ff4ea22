"""Who a cadence's audience is in one engagement, read from its facts (no query of its own)."""

from __future__ import annotations

from okr_rollout.journey.facts import EngagementFacts, PersonFacts
from okr_rollout.playbooks import LoadedPlaybook

# The playbook parameter that makes the whole company the pilot; a playbook without it always has a pilot.
SMALL_COMPANY_PARAMETER = "small_company_headcount"


def recipients_of(facts: EngagementFacts, playbook: LoadedPlaybook, audience: str) -> list[int]:
    """Person ids of ``audience`` (a playbook AudienceRole) in this engagement, sorted, each once."""
    if audience == "coach":
        found = set(facts.coach_ids)  # the engagement's external coaches
    elif audience in ("internal_coach", "okr_master"):
        found = {a.person_id for a in facts.appointments if a.role == audience}
    elif audience == "ceo":
        found = {p.id for p in facts.people if "ceo" in p.roles}
    elif audience == "executive":
        found = {p.id for p in facts.people if p.roles & {"ceo", "executive"}}
    elif audience == "member":
        found = {p.id for p in facts.people}
    elif audience == "pilot_member":
        found = {p.id for p in _pilot_people(facts, playbook)}
    elif audience == "department_lead":
        whole = _whole_company(facts, playbook)
        found = {d.lead_id for d in facts.departments if d.lead_id is not None and (whole or d.is_pilot)}
    else:
        found = set()
    return sorted(found)


def _whole_company(facts: EngagementFacts, playbook: LoadedPlaybook) -> bool:
    threshold = playbook.parameters.get(SMALL_COMPANY_PARAMETER)
    return isinstance(threshold, int) and not isinstance(threshold, bool) and facts.whole_company(threshold)


def _pilot_people(facts: EngagementFacts, playbook: LoadedPlaybook) -> tuple[PersonFacts, ...]:
    if _whole_company(facts, playbook):
        return facts.people
    pilots = {d.id for d in facts.pilot_departments()}
    return tuple(p for p in facts.people if p.department_ids & pilots)
