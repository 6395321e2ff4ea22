"""One engagement on the standard playbook, walked over HTTP from creation to expansion, as a coach would.

A 40-person company in Taipei pilots OKRs in two departments (Sales and Support, three members each plus a
lead). At every step the coach reads the readiness report, sees which criteria still fail and why, records
what is missing, and fires the transition once the report allows it. The admin only creates the client and
the engagement; everything else is done with the coach's token.
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
class Client:
    """The people and departments the coach records, and the records later steps refer to."""

    ceo: int = 0
    cfo: int = 0
    engineering: int = 0
    leads: dict[int, int] = field(default_factory=dict)  # pilot department id -> its lead
    members: dict[int, list[int]] = field(default_factory=dict)  # pilot department id -> its members
    okrs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # quarter label -> OKRs
    quarters: dict[str, dict[str, Any]] = field(default_factory=dict)
    appointments: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def pilot_members(self) -> list[int]:
        return [person for members in self.members.values() for person in members]

    def department_of(self, person: int) -> int:
        return next(d for d, members in self.members.items() if person in members)

    def cycle(self, label: str) -> Cycle:
        return Cycle(
            list(self.quarters).index(label) + 1, self.quarters[label], self.okrs[label],
            team_meetings={d: [self.leads[d], *members] for d, members in self.members.items()},
            one_on_ones=[(self.leads[d], m) for d, members in self.members.items() for m in members],
        )


def coach_engaged(walk: Walk) -> Client:
    """The coach records the organization chart; an assigned coach is all the first gate asks."""
    client = Client()
    client.ceo = walk.person("Chang Wei-ming", "ceo")
    client.cfo = walk.person("Huang Ya-ting", "executive")
    client.engineering = walk.department("Engineering", pilot=False)
    walk.person("Tsai Kuan-yu", "member", departments=(client.engineering,))
    walk.allowed("schedule_executive_meeting")
    walk.advance("schedule_executive_meeting")
    return client


def executive_meeting(walk: Walk, client: Client) -> None:
    walk.go_to(date(2026, 1, 8))
    walk.blocked("hold_kickoff", executive_outcomes="No executive meeting has been held yet",
                 ceo_backing="No statement of CEO support is recorded")
    walk.meeting("executive", walk.today, [client.ceo, client.cfo, walk.tokens.coach_person_id],
                 outcomes=("ceo_support", "okrs_introduced"), notes="CEO backs a pilot; OKRs presented to the C-suite")
    walk.ceo_support("partial", "Backs a pilot; wants results before a company-wide rollout")
    walk.blocked("hold_kickoff", executive_outcomes="still lacks these outcomes: expectations set")
    walk.go_to(date(2026, 1, 9))
    walk.meeting("executive", walk.today, [client.ceo, client.cfo], outcomes=("expectations_set",),
                 notes="Challenges for OKRs: churn in Support, slow Sales pipeline")
    walk.allowed("hold_kickoff")
    walk.advance("hold_kickoff")


def kickoff(walk: Walk, client: Client) -> None:
    walk.go_to(date(2026, 1, 12))
    walk.blocked("start_pilot_training",
                 foundations="Still to record at the kickoff: the mission, the vision in 1 year, the vision in 5 "
                             "years, the vision in 10 years and the strategies",
                 pilot_choice="0 pilot department(s) chosen; 1 to 2 are needed",
                 kickoff_outcomes="No kickoff meeting has been held yet")
    walk.update_organization(mission="Make small shops' logistics effortless",
                             vision_1y="500 shops in Taiwan", vision_5y="Leader in East Asia",
                             vision_10y="Every small shop in Asia ships with us")
    walk.blocked("start_pilot_training", foundations="Still to record at the kickoff: the strategies.",
                 pilot_choice="0 pilot department(s)", kickoff_outcomes="No kickoff meeting")
    walk.update_organization(strategies=["Self-service onboarding", "Support that retains customers"])
    for name, members in (("Sales", ("Wu Chia-hao", "Lee Shu-fen", "Chen Yi-ting")),
                          ("Support", ("Lin Po-han", "Kuo Hsin-yi", "Yang Tzu-wei"))):
        lead = walk.person(f"{name} lead", "department_lead")
        department = walk.department(name, pilot=True, lead_id=lead)
        client.leads[department] = lead
        client.members[department] = [walk.person(m, "member", departments=(department,)) for m in members]
    walk.blocked("start_pilot_training", kickoff_outcomes="No kickoff meeting has been held yet")
    walk.meeting("kickoff", walk.today, [client.ceo, *client.leads.values()],
                 outcomes=("foundations_agreed", "pilot_leads_committed"))
    walk.allowed("start_pilot_training")
    walk.advance("start_pilot_training")


def pilot_training(walk: Walk, client: Client) -> None:
    """Three days of six hours; one Support member misses the second day (5 of 6 still attend every module)."""
    walk.go_to(date(2026, 1, 13))
    walk.blocked("start_drafting", training="Training is not complete: 0 of 18 training hours held")
    everyone = client.pilot_members
    walk.refused("/training-sessions", {"held_on": "2026-01-14", "hours": 6, "modules": ["case_studies"]},
                 "body.held_on", "future_date")
    walk.training(6, MODULES[:2], everyone)
    walk.blocked("start_drafting", training=(
        "6 of 18 training hours held; modules not yet covered with attendance: “Case studies” and "
        "“Practice and coaching”; 0 of 6 pilot members attended every module (0%; 80% needed)"))
    walk.go_to(date(2026, 1, 14))
    walk.training(6, MODULES[2:3], everyone[:-1])
    walk.blocked("start_drafting", training="12 of 18 training hours held")
    walk.go_to(date(2026, 1, 15))
    walk.training(6, MODULES[3:], everyone)
    evidence = walk.allowed("start_drafting")["criteria"][0]["evidence"]
    assert len(evidence.pop("session_ids")) == 3
    assert evidence == {"hours": 18.0, "required": 18.0, "modules_missing": [], "pilot_people": 6,
                        "fully_trained": 5, "attendance_share": 0.833, "required_attendance_share": 0.8}
    walk.advance("start_drafting")


def pilot_drafting(walk: Walk, client: Client) -> None:
    """Two groups of four (lead and members) draft for two weeks; OKR software and Q1 OKRs come in meanwhile."""
    walk.go_to(date(2026, 1, 19))
    sales, support = client.members
    walk.refused("/drafting-groups", {"member_ids": client.pilot_members, "started_on": "2026-01-19"},
                 "body.member_ids", "group_size")
    groups = [walk.drafting_group([client.leads[sales], *client.members[sales]], sales)]
    walk.blocked("appoint_internal_coaches",
                 drafting_groups="Drafting groups: 3 pilot member(s) are in no group.",
                 drafting_duration="Drafting is still under way (0 days so far",
                 okr_software="No OKR software is introduced yet",
                 q1_planned="Quarter 1 of the engagement is not set up yet")
    groups.append(walk.drafting_group([client.leads[support], *client.members[support]], support))
    walk.go_to(date(2026, 1, 20))
    walk.update_organization(okr_software="Perdoo")
    walk.go_to(date(2026, 1, 26))
    q1 = client.quarters["Q1 2026"] = walk.quarter("Q1 2026", Q1_START)
    assert (q1["ends_on"], q1["next_quarter_due_on"]) == ("2026-05-10", "2026-05-31")
    okrs = client.okrs["Q1 2026"] = [
        walk.okr(q1, f"Grow the pipeline ({n})", person, sales, "Qualified leads per week")
        for n, person in enumerate(client.members[sales], 1)]
    walk.blocked("appoint_internal_coaches", drafting_duration="still under way (7 days so far",
                 q1_planned="No OKR for Q1 2026 yet in the pilot department Support.")
    walk.go_to(date(2026, 1, 28))
    okrs += [walk.okr(q1, f"Keep customers ({n})", person, support, "Tickets solved on first contact")
             for n, person in enumerate(client.members[support][:2], 1)]
    walk.go_to(date(2026, 2, 2))
    walk.blocked("appoint_internal_coaches", drafting_duration="still under way (14 days so far")
    for group in groups:
        walk.end_drafting(group)
    gate = walk.allowed("appoint_internal_coaches")
    assert gate["criteria"][1]["evidence"]["days"] == 14
    walk.advance("appoint_internal_coaches")


def coaches_appointed(walk: Walk, client: Client) -> None:
    """An internal coach (trained later) and an OKR Master (ready later); the last Support member's OKR."""
    walk.go_to(date(2026, 2, 3))
    sales, support = client.members
    latecomer = client.members[support][2]
    walk.blocked("start_q1", internal_coaches_appointed="0 internal coach(es) appointed; at least 1 needed",
                 q1_members_own_okrs="5 of 6 pilot members own an OKR for Q1 2026",
                 okr_master_appointed="No OKR Master is appointed")
    client.appointments["coach"] = walk.appoint(client.members[sales][1], "internal_coach")
    walk.blocked("start_q1", q1_members_own_okrs="5 of 6 pilot members",
                 okr_master_appointed="No OKR Master is appointed")
    client.okrs["Q1 2026"].append(walk.okr(client.quarters["Q1 2026"], "Keep customers (3)", latecomer, support,
                                           "Tickets solved on first contact"))
    gate = walk.allowed("start_q1", "okr_master_appointed")  # advisory: some companies have no OKR Master
    assert gate["criteria"][2]["severity"] == "advisory"
    client.appointments["master"] = walk.appoint(client.cfo, "okr_master")
    walk.allowed("start_q1")
    walk.go_to(date(2026, 2, 6))
    walk.advance("start_q1")


def run_quarter(walk: Walk, client: Client, label: str, trigger: str) -> None:
    walk.run_quarter(client.cycle(label), trigger)
    walk.meeting("quarter_review", walk.today, [client.ceo, client.cfo, *client.leads.values()])


def q1_cycle(walk: Walk, client: Client) -> None:
    walk.go_to(date(2026, 2, 9))
    walk.blocked("end_q1", q1_ended="Q1 2026 runs until 2026-05-10 (91 days left).")
    run_quarter(walk, client, "Q1 2026", "end_q1")
    gate = walk.allowed("end_q1")
    evidence = {c["id"]: c["evidence"] for c in gate["criteria"]}
    assert evidence["q1_check_ins"]["check_ins_on_time"] == 78
    assert set(evidence["q1_one_on_ones"]["held"].values()) == {7}
    walk.advance("end_q1")


def quarter_review(walk: Walk, client: Client) -> None:
    """Scores on Google's scale, then a decision per OKR; 'continue' OKRs wait for Q2 to exist."""
    q1, okrs = client.quarters["Q1 2026"], client.okrs["Q1 2026"]
    walk.blocked("prepare_next_quarter", q1_scored="Q1 2026: 6 OKR(s) unscored, 0 off the scale",
                 q1_decided="0 of 6 OKRs of Q1 2026 have a decision")
    problem = walk.send("PUT", f"/okrs/{okrs[0]['id']}/score", {"score": 0.5}, 422)
    assert problem["errors"][0]["type"] == "off_scale"
    scores = (0.7, 1.0, 0.3, 0.7, 0.0, 0.7)
    for okr, score in zip(okrs[:3], scores[:3], strict=True):
        walk.score(okr, score)
    walk.blocked("prepare_next_quarter", q1_scored="3 OKR(s) unscored", q1_decided="0 of 6")
    for okr, score in zip(okrs[3:], scores[3:], strict=True):
        walk.score(okr, score)
    review = walk.send("GET", f"/quarters/{q1['id']}/review")
    assert (review["overall"]["okrs"], review["overall"]["scored"]) == (6, 6)
    assert (review["overall"]["average_score"], review["overall"]["check_in_rate"]) == (0.567, 1.0)
    assert {d["name"] for d in review["departments"]} == {"Sales", "Support"}
    decisions = ("continue", "complete", "continue", "complete", "abandon", "continue")
    for okr, decision in zip(okrs, decisions, strict=True):
        assert walk.decide(okr, decision) is None  # no Q2 yet to carry into
    walk.ceo_support("full", "Impressed by Q1; wants OKRs to stay")
    walk.allowed("prepare_next_quarter")
    walk.go_to(date(2026, 5, 12))
    walk.advance("prepare_next_quarter")


def next_quarter(walk: Walk, client: Client) -> None:
    walk.go_to(date(2026, 5, 13))
    q1_okrs = client.okrs["Q1 2026"]
    walk.blocked("start_q2", q2_planned="Quarter 2 of the engagement is not set up yet",
                 q2_prepared_in_time="The next quarter is not prepared; 18 day(s) left until 2026-05-31.",
                 q2_members_own_okrs="Quarter 2 of the engagement is not set up yet")
    q2 = client.quarters["Q2 2026"] = walk.quarter("Q2 2026", Q2_START)
    carried = walk.okrs_of(q2)
    assert sorted(q2["carried_over_okr_ids"]) == sorted(o["id"] for o in carried)
    assert sorted(o["carried_from_id"] for o in carried) == [q1_okrs[i]["id"] for i in (0, 2, 5)]
    for okr in carried:
        assert okr["key_results"][0]["start"] == 65.0  # restarts from the last Q1 check-in (13 weeks x 5)
    walk.blocked("start_q2", q2_members_own_okrs="3 of 6 pilot members own an OKR for Q2 2026")
    owners = {o["owner_id"] for o in carried}
    for person in client.pilot_members:
        if person not in owners:
            walk.okr(q2, "Raise the bar", person, client.department_of(person), "Customer satisfaction score")
    client.okrs["Q2 2026"] = walk.okrs_of(q2)
    gate = walk.allowed("start_q2")
    assert gate["criteria"][1]["evidence"]["prepared_on"] == "2026-05-13"
    walk.go_to(date(2026, 5, 14))
    walk.advance("start_q2")


def q2_cycle(walk: Walk, client: Client) -> None:
    run_quarter(walk, client, "Q2 2026", "train_trainers")
    okrs = client.okrs["Q2 2026"]
    walk.blocked("train_trainers", q2_scored="Q2 2026: 6 OKR(s) unscored", q2_decided="0 of 6 OKRs of Q2 2026")
    for okr, score in zip(okrs, (0.7, 1.0, 0.7, 0.7, 0.3, 1.0), strict=True):
        walk.score(okr, score)
    for okr, decision in zip(okrs, ("complete", "complete", "continue", "complete", "abandon", "complete"),
                             strict=True):
        assert walk.decide(okr, decision) is None  # no Q3 recorded: nothing is carried
    walk.allowed("train_trainers")
    walk.advance("train_trainers")


def train_the_trainers(walk: Walk, client: Client) -> None:
    walk.go_to(date(2026, 8, 18))
    walk.blocked("start_culture", internal_coaches_trained="0 trained internal coach(es); at least 1 needed",
                 okr_master_ready="The OKR Master (Huang Ya-ting) is appointed but not yet ready")
    walk.update_appointment(client.appointments["coach"], trained=True, trained_on="2026-08-18")
    walk.blocked("start_culture", okr_master_ready="not yet ready")
    walk.update_appointment(client.appointments["master"], ready=True)
    walk.allowed("start_culture")
    walk.go_to(date(2026, 8, 19))
    walk.advance("start_culture")


def culture(walk: Walk, client: Client) -> None:
    """Everything holds except the CEO's support: stated in May, it has faded; the coach confirms it again."""
    walk.go_to(date(2026, 8, 20))
    walk.blocked("start_expansion", ceo_full_support=(
        "CEO support was last confirmed 101 days ago; it counts as faded after 90 days"))
    statements = walk.send("GET", "/ceo-support")["items"]
    assert [(s["level"], s["faded"]) for s in statements] == [("partial", True), ("full", True)]
    walk.ceo_support("full", "Wants OKRs in every department")
    gate = walk.allowed("start_expansion")
    pilot = gate["criteria"][0]["evidence"]
    assert (pilot["quarters_recorded"], pilot["okrs"], pilot["average_score"]) == (2, 12, 0.65)
    walk.advance("start_expansion")


def test_standard_journey_from_coach_engaged_to_expansion(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    walk = Walk.begin(app_client, tokens, clock, name="Formosa Freight", headcount=40)
    client = coach_engaged(walk)
    for step in (executive_meeting, kickoff, pilot_training, pilot_drafting, coaches_appointed, q1_cycle,
                 quarter_review, next_quarter, q2_cycle, train_the_trainers, culture):
        step(walk, client)

    assert walk.phase() == "expansion"
    assert walk.send("GET", "/readiness")["transitions"] == []  # the last phase of the journey
    events = walk.events()
    moves = [e["payload"] for e in events if e["type"] == "engagement.transitioned"]
    assert [m["trigger"] for m in moves] == walk.fired == [t["trigger"] for t in walk.playbook["transitions"]]
    assert [m["to"] for m in moves] == [p["id"] for p in walk.playbook["phases"][1:]]
    assert all(e["actor"].startswith("coach:") for e in events if e["type"] == "engagement.transitioned")
    counts: dict[str, int] = {}
    for event in events:
        counts[event["type"]] = counts.get(event["type"], 0) + 1
    assert counts["check_in.recorded"] == 2 * 13 * 6
    assert counts["okr.carried_over"] == 3
    assert counts["okr.scored"] == counts["okr.decided"] == 12
    assert counts["ceo_support.stated"] == 3
    assert counts["appointment.made"] == counts["appointment.updated"] == 2
    assert counts["drafting_group.recorded"] == counts["drafting_group.updated"] == 2
    assert counts["training_session.recorded"] == 3
    assert counts["quarter.created"] == 2


def test_the_ceo_support_stated_last_counts_when_it_changes_within_a_day(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    """Undecided in the morning, the CEO backs a pilot after the executive meeting: the later statement counts."""
    walk = Walk.begin(app_client, tokens, clock, name="Same-day Support", headcount=40)
    ceo = walk.person("Chang Wei-ming", "ceo")
    walk.advance("schedule_executive_meeting")
    walk.go_to(date(2026, 1, 8), hour=1)
    walk.ceo_support("none", "Undecided before the meeting")
    walk.go_to(date(2026, 1, 8), hour=8)
    walk.meeting("executive", walk.today, [ceo], outcomes=("ceo_support", "okrs_introduced", "expectations_set"),
                 hour=15)
    walk.ceo_support("partial", "Backs a pilot after the meeting")
    assert [s["level"] for s in walk.send("GET", "/ceo-support")["items"]] == ["none", "partial"]
    gate = walk.allowed("hold_kickoff")
    assert gate["criteria"][1]["evidence"]["level"] == "partial"


def test_a_taipei_coach_records_this_mornings_support_on_the_clients_date(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    """At 07:00 on 6 January in Taipei (23:00 on the 5th in UTC) the client's today is the 6th, not the future."""
    walk = Walk.begin(app_client, tokens, clock, name="Early Bird", headcount=40)
    walk.advance("schedule_executive_meeting")
    walk.go_to(date(2026, 1, 5), hour=23)
    statement = walk.record("/ceo-support", {"level": "partial", "stated_on": "2026-01-06",
                                             "note": "Said so at breakfast"})
    assert statement["faded"] is False
    gate = walk.gate("hold_kickoff")
    assert gate["criteria"][1]["passed"] is True, gate["criteria"][1]["reason"]
