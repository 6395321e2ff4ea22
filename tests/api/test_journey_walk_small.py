"""One engagement on the small-company playbook, walked over HTTP to its last phase (culture), as a coach would.

A five-person studio adopts OKRs all at once: no pilot departments, everyone is trained, drafts in one
group, owns an OKR, checks in weekly and has 1:1s with the CEO. An OKR Master (a member) keeps OKRs
running; an internal coach is optional here, so those criteria only advise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from tests.api._walk import MODULES, Cycle, Walk
from tests.conftest import Clock, Tokens

Q1_START = date(2026, 2, 9)  # a Monday; Q1 runs 13 weeks, to 2026-05-10
Q2_START = date(2026, 5, 18)  # to 2026-08-16


@dataclass
class Studio:
    ceo: int = 0
    coach: int = 0
    members: list[int] = field(default_factory=list)
    quarters: dict[str, dict[str, Any]] = field(default_factory=dict)
    okrs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    master: dict[str, Any] = field(default_factory=dict)

    @property
    def everyone(self) -> list[int]:
        return [self.ceo, *self.members]

    def cycle(self, label: str) -> Cycle:
        """One weekly meeting of the whole company; the CEO has a 1:1 with each member every two weeks, and the
        coach one with the CEO (a 1:1 counts only for the one led, so the CEO's own come from the coach)."""
        return Cycle(list(self.quarters).index(label) + 1, self.quarters[label], self.okrs[label],
                     team_meetings={None: self.everyone},
                     one_on_ones=[(self.ceo, m) for m in self.members] + [(self.coach, self.ceo)])


def coach_engaged(walk: Walk) -> Studio:
    studio = Studio(ceo=walk.person("Hsu Pei-chun", "ceo"), coach=walk.tokens.coach_person_id)
    studio.members = [walk.person(name) for name in ("Lai Chun-chieh", "Ho Yu-ting", "Su Wen-hsiang", "Pan Ai-ling")]
    walk.allowed("schedule_executive_meeting")
    walk.advance("schedule_executive_meeting")
    return studio


def executive_meeting(walk: Walk, studio: Studio) -> None:
    walk.go_to(date(2026, 1, 8))
    walk.blocked("hold_kickoff", executive_outcomes="No executive meeting has been held yet",
                 ceo_backing="No statement of CEO support is recorded")
    walk.meeting("executive", walk.today, [studio.ceo, walk.tokens.coach_person_id],
                 outcomes=("ceo_support", "okrs_introduced", "expectations_set"))
    walk.blocked("hold_kickoff", ceo_backing="No statement of CEO support is recorded")
    walk.ceo_support("full", "Wants the whole studio on OKRs")
    walk.allowed("hold_kickoff")
    walk.advance("hold_kickoff")


def kickoff(walk: Walk, studio: Studio) -> None:
    """The whole company at the kickoff; no pilot to choose, so a kickoff records no pilot leads."""
    walk.go_to(date(2026, 1, 12))
    gate = walk.blocked("start_training",
                        foundations="Still to record at the kickoff: the mission, the vision in 1 year, "
                                    "the vision in 5 years, the vision in 10 years and the strategies",
                        kickoff_outcomes="No kickoff meeting has been held yet")
    assert gate["criteria"][1]["evidence"] == {"headcount": 5, "max_headcount": 6}
    walk.update_organization(mission="Games that teach kids to code", vision_1y="Two titles shipped",
                             vision_5y="Used in 1,000 schools", vision_10y="Every child in Taiwan codes",
                             strategies=["Partner with teachers"])
    held_at = "2026-01-12T10:00:00+08:00"
    walk.refused("/meetings", {"kind": "kickoff", "held_at": held_at, "attendee_ids": studio.everyone,
                               "outcomes": ["foundations_agreed", "pilot_leads_committed"]},
                 "body.outcomes[1]", "unknown_outcome")
    walk.meeting("kickoff", walk.today, studio.everyone, outcomes=("foundations_agreed",))
    walk.allowed("start_training")
    walk.advance("start_training")


def company_training(walk: Walk, studio: Studio) -> None:
    """Everyone takes the course; one member misses the second day (4 of 5 is the 80% needed)."""
    walk.go_to(date(2026, 1, 13))
    walk.blocked("start_drafting", training="0 of 18 training hours held")
    walk.training(6, MODULES[:2], studio.everyone)
    walk.go_to(date(2026, 1, 14))
    walk.training(6, MODULES[2:3], studio.everyone[:-1])
    walk.blocked("start_drafting", training=(
        "12 of 18 training hours held; modules not yet covered with attendance: “Practice and coaching”; "
        "0 of 5 pilot members attended every module"))
    walk.go_to(date(2026, 1, 15))
    walk.training(6, MODULES[3:], studio.everyone)
    evidence = walk.allowed("start_drafting")["criteria"][0]["evidence"]
    assert (evidence["pilot_people"], evidence["fully_trained"], evidence["attendance_share"]) == (5, 4, 0.8)
    walk.advance("start_drafting")


def okr_drafting(walk: Walk, studio: Studio) -> None:
    """One group of five drafts for two weeks; the OKRs recorded here stand in for OKR software."""
    walk.go_to(date(2026, 1, 19))
    walk.blocked("appoint_okr_master", drafting_groups="No drafting group has been formed yet",
                 drafting_duration="Drafting has not started",
                 okr_software="No OKR software is introduced yet",
                 q1_planned="Quarter 1 of the engagement is not set up yet")
    group = walk.drafting_group(studio.everyone)
    walk.go_to(date(2026, 1, 26))
    q1 = studio.quarters["Q1 2026"] = walk.quarter("Q1 2026", Q1_START)
    studio.okrs["Q1 2026"] = [walk.okr(q1, "Ship the first title", studio.ceo, None, "Levels finished")]
    gate = walk.blocked("appoint_okr_master", drafting_duration="Drafting is still under way (7 days so far")
    software = {c["id"]: c for c in gate["criteria"]}["okr_software"]
    assert software["evidence"] == {"software": "okr-rollout", "okrs_recorded": 1}
    walk.go_to(date(2026, 2, 2))
    walk.end_drafting(group)
    walk.allowed("appoint_okr_master")
    walk.advance("appoint_okr_master")


def coaches_appointed(walk: Walk, studio: Studio) -> None:
    walk.go_to(date(2026, 2, 3))
    walk.blocked("start_q1", okr_master_appointed="No OKR Master is appointed",
                 internal_coach_appointed="0 internal coach(es) appointed",
                 q1_members_own_okrs="1 of 5 pilot members own an OKR for Q1 2026")
    studio.master = walk.appoint(studio.members[0], "okr_master")
    q1 = studio.quarters["Q1 2026"]
    for member, metric in zip(studio.members, ("Art assets", "Playtests", "School demos", "Bugs closed"),
                              strict=True):
        studio.okrs["Q1 2026"].append(walk.okr(q1, f"Make the title great: {metric.lower()}", member, None, metric))
    walk.allowed("start_q1", "internal_coach_appointed")  # optional in a small company
    walk.go_to(date(2026, 2, 6))
    walk.advance("start_q1")


def q1_cycle(walk: Walk, studio: Studio) -> None:
    walk.go_to(date(2026, 2, 9))
    walk.blocked("end_q1", q1_ended="Q1 2026 runs until 2026-05-10 (91 days left).")
    walk.run_quarter(studio.cycle("Q1 2026"), "end_q1")
    gate = walk.allowed("end_q1")
    meetings = {c["id"]: c["evidence"] for c in gate["criteria"]}
    assert meetings["q1_team_meetings"]["held"] == {"company": 13}
    assert meetings["q1_one_on_ones"]["held"] == {str(person): 7 for person in studio.everyone}
    walk.advance("end_q1")


def quarter_review(walk: Walk, studio: Studio) -> None:
    okrs = studio.okrs["Q1 2026"]
    walk.blocked("prepare_next_quarter", q1_scored="Q1 2026: 5 OKR(s) unscored",
                 q1_decided="0 of 5 OKRs of Q1 2026 have a decision")
    for okr, score in zip(okrs, (0.7, 0.3, 1.0, 0.7, 0.0), strict=True):
        walk.score(okr, score)
    walk.blocked("prepare_next_quarter", q1_decided="0 of 5")
    for okr, decision in zip(okrs, ("continue", "continue", "complete", "complete", "abandon"), strict=True):
        walk.decide(okr, decision)
    walk.allowed("prepare_next_quarter")
    walk.advance("prepare_next_quarter")


def next_quarter(walk: Walk, studio: Studio) -> None:
    walk.go_to(date(2026, 5, 13))
    walk.blocked("start_q2", q2_planned="Quarter 2 of the engagement is not set up yet",
                 q2_prepared_in_time="The next quarter is not prepared; 18 day(s) left until 2026-05-31.",
                 q2_members_own_okrs="Quarter 2 of the engagement is not set up yet")
    q2 = studio.quarters["Q2 2026"] = walk.quarter("Q2 2026", Q2_START)
    carried = walk.okrs_of(q2)
    q1_okrs = studio.okrs["Q1 2026"]
    assert sorted(o["carried_from_id"] for o in carried) == [q1_okrs[0]["id"], q1_okrs[1]["id"]]
    assert sorted(q2["carried_over_okr_ids"]) == sorted(o["id"] for o in carried)
    walk.blocked("start_q2", q2_members_own_okrs="2 of 5 pilot members own an OKR for Q2 2026")
    for member in studio.members[1:]:
        walk.okr(q2, "Grow the audience", member, None, "Newsletter sign-ups")
    studio.okrs["Q2 2026"] = walk.okrs_of(q2)
    walk.allowed("start_q2")
    walk.advance("start_q2")


def q2_cycle(walk: Walk, studio: Studio) -> None:
    """The OKR Master runs Q2; at its end the coach hands over to the OKR Master, once ready."""
    walk.run_quarter(studio.cycle("Q2 2026"), "start_culture")
    walk.blocked("start_culture", q2_scored="Q2 2026: 5 OKR(s) unscored", q2_decided="0 of 5",
                 okr_master_ready="The OKR Master (Lai Chun-chieh) is appointed but not yet ready",
                 internal_coach_trained="0 trained internal coach(es)")
    for okr in studio.okrs["Q2 2026"]:
        walk.score(okr, 0.7)
    for okr in studio.okrs["Q2 2026"]:
        walk.decide(okr, "complete")
    walk.blocked("start_culture", okr_master_ready="not yet ready", internal_coach_trained="0 trained")
    walk.update_appointment(studio.master, ready=True)
    walk.allowed("start_culture", "internal_coach_trained")
    walk.go_to(date(2026, 8, 18))
    walk.advance("start_culture")


def test_small_company_journey_to_the_culture_phase(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    walk = Walk.begin(app_client, tokens, clock, playbook="small_company", name="Pixel Sprouts", headcount=5)
    studio = coach_engaged(walk)
    for step in (executive_meeting, kickoff, company_training, okr_drafting, coaches_appointed, q1_cycle,
                 quarter_review, next_quarter, q2_cycle):
        step(walk, studio)

    final = walk.playbook["phases"][-1]
    assert walk.phase() == final["id"] == "culture" and final["final"] is True
    assert walk.send("GET", "/readiness")["transitions"] == []
    departments = walk.send("GET", f"/api/v1/organizations/{walk.organization_id}/departments")["items"]
    assert departments == []  # the whole company was the pilot
    moves = [e["payload"] for e in walk.events() if e["type"] == "engagement.transitioned"]
    assert [m["trigger"] for m in moves] == walk.fired == [t["trigger"] for t in walk.playbook["transitions"]]
    assert [m["to"] for m in moves] == [p["id"] for p in walk.playbook["phases"][1:]]
