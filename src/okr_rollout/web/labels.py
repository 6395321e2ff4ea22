"""Names of the keys the pages show (event types, meeting kinds, outcomes, modules, decisions, roles), marked for
the catalog with ``N_`` and translated when rendered. A key a playbook adds that is not here is shown as words
(``as_words``: ``team_retro`` -> "Team retro"), never with its underscores."""

from __future__ import annotations

from okr_rollout.playbooks.vocabulary import as_words as as_words  # re-exported for the templates


def N_(message: str) -> str:  # the conventional gettext marker, found by the catalog extraction
    return message


EVENTS = {
    "engagement.created": N_("Engagement created"),
    "engagement.transitioned": N_("Moved to the next phase"),
    "playbook.migrated": N_("Moved to another playbook version"),
    "gate.refused": N_("Transition refused by its gate"),
    "task.updated": N_("Task updated"),
    "checklist.checked": N_("Checklist item ticked"),
    "checklist.unchecked": N_("Checklist item unticked"),
    "meeting.recorded": N_("Meeting recorded"),
    "meeting.planned": N_("Meeting planned"),
    "meeting.held": N_("Planned meeting held"),
    "meeting.cancelled": N_("Planned meeting cancelled"),
    "ceo_support.stated": N_("CEO support recorded"),
    "training_session.recorded": N_("Training session recorded"),
    "training_session.planned": N_("Training session planned"),
    "training_session.held": N_("Planned training session held"),
    "training_session.cancelled": N_("Planned training session cancelled"),
    "drafting_group.recorded": N_("Drafting group recorded"),
    "drafting_group.updated": N_("Drafting group updated"),
    "appointment.made": N_("Appointment made"),
    "appointment.updated": N_("Appointment updated"),
    "quarter.created": N_("Quarter created"),
    "quarter.scored": N_("Quarter scored"),
    "okr.created": N_("OKR created"),
    "key_result.created": N_("Key result added"),
    "check_in.recorded": N_("Check-in recorded"),
    "okr.scored": N_("OKR scored"),
    "okr.decided": N_("Decision on an OKR"),
    "okr.carried_over": N_("OKR carried over"),
    "readiness.changed": N_("Readiness changed"),
    "engagement.health_changed": N_("Health changed"),
    "record.corrected": N_("Record corrected"),
    "record.voided": N_("Record voided"),
    "quarter.closed": N_("Quarter closed: every OKR decided"),
    "quarter.reopened": N_("Quarter reopened"),
    "organization.updated": N_("Organization facts updated"),
    "engagement.coach_assigned": N_("Coach assigned"),
    "engagement.coach_unassigned": N_("Coach taken off the engagement"),
    "engagement.handed_over": N_("Engagement handed over to another coach"),
    "engagement.handed_to_internal_coaches": N_("Engagement handed over to the internal coaches"),
    "wave.opened": N_("Expansion wave opened"),
    "wave.transitioned": N_("Expansion wave moved on"),
}

MEETING_KINDS = {
    "executive": N_("Executive meeting"),
    "kickoff": N_("Kickoff meeting"),
    "drafting_session": N_("OKR drafting session"),
    "weekly_team": N_("Weekly team meeting"),
    "one_on_one": N_("1:1 meeting"),
    "quarter_review": N_("Quarter review meeting"),
    "culture": N_("OKR culture meeting"),
}

OUTCOMES = {
    "ceo_support": N_("CEO support obtained"),
    "okrs_introduced": N_("OKRs introduced to GMs, VPs and the C-suite"),
    "expectations_set": N_("Expectations set"),
    "foundations_agreed": N_("Mission, vision and strategies agreed"),
    "pilot_leads_committed": N_("Pilot leads committed"),
}

MODULES = {
    "basic_concepts": N_("Basic concepts"),
    "deep_principles": N_("Deep principles"),
    "case_studies": N_("Case studies"),
    "practice_and_coaching": N_("Practice and coaching"),
}

SUPPORT_LEVELS = {
    "none": N_("None"),
    "partial": N_("Partial"),
    "full": N_("Full"),
}

DECISIONS = {
    "continue": N_("Continue"),
    "abandon": N_("Abandon"),
    "complete": N_("Mark complete"),
}

APPOINTMENT_ROLES = {
    "internal_coach": N_("Internal OKR coach"),
    "okr_master": N_("OKR Master"),
}

TASK_ROLES = {
    "coach": N_("Coach"),
    "ceo": N_("CEO"),
    "executive": N_("Executive"),
    "department_lead": N_("Department lead"),
    "pilot_member": N_("Pilot member"),
    "member": N_("Member"),
    "internal_coach": N_("Internal OKR coach"),
    "okr_master": N_("OKR Master"),
}

ATTENTION = {
    "overdue": N_("Overdue tasks"),
    "idle": N_("No recent activity"),
}

FOUNDATION_FIELDS = {
    "mission": N_("Mission"),
    "vision_1y": N_("Vision in 1 year"),
    "vision_5y": N_("Vision in 5 years"),
    "vision_10y": N_("Vision in 10 years"),
    "strategies": N_("Strategies"),
}

# The form that records what a criterion of this kind reads (a failed criterion links to it).
RECORD_FOR_CRITERION = {
    "meeting_outcomes": "meeting",
    "meeting_cadence": "meeting",
    "ceo_support": "ceo-support",
    "organization_foundations": "foundations",
    "pilot_departments": "department",
    "okr_software_introduced": "foundations",
    "training_completed": "training",
    "drafting_groups": "drafting-group",
    "drafting_duration": "drafting-group",
    "internal_coaches": "appointment",
    "okr_master": "appointment",
    "quarter_planned": "okr",
    "pilot_members_own_okrs": "okr",
    "check_in_rate": "check-in",
    "quarter_scored": "score",
    "okr_decisions": "decision",
    "pilot_completed": "score",
    "quarter_ended": "quarter",
    "next_quarter_deadline": "quarter",
}
