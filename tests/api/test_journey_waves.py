"""The journey goes on after the pilot: the standard journey walked over HTTP to expansion, then two waves of two
departments each, as a coach and then an internal coach would.

Formosa Freight pilots OKRs in Sales and Support (the journey script of ``test_journey_walk``). In expansion the
coach opens a first wave (Marketing and Finance) and trains it; then hands the engagement over to the internal
coaches. An internal coach opens the second wave (Operations and People) on the playbook's shortened variant
(a shorter course, which the internal coaches must give) and runs both waves alone to their end. Every wave gate
is first refused, with the same gate report as an engagement's transition, then passed; in English and in
Traditional Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.api import test_journey_walk as pilot
from tests.api._walk import CJK, KEY_OR_ID_LIST, MODULES, WEEKS_PER_QUARTER, Cycle, Walk
from tests.conftest import Clock, Tokens, auth

Q4_START = date(2026, 11, 16)  # a Monday: the waves' first quarter, to 2027-02-14


@dataclass
class WaveRun:
    """One wave: the walk of whoever leads it (the coach's, then the internal coach's), and what it recorded."""

    walk: Walk
    id: int
    departments: dict[int, str]
    leads: dict[int, int]
    members: dict[int, list[int]]
    okrs: list[dict[str, Any]]

    @property
    def everyone(self) -> list[int]:
        return [person for members in self.members.values() for person in members]

    @property
    def path(self) -> str:
        return f"/waves/{self.id}"

    def led_by(self, walk: Walk) -> None:
        self.walk = walk

    def get(self) -> dict[str, Any]:
        wave: dict[str, Any] = self.walk.send("GET", self.path)
        return wave

    def gate(self, trigger: str, language: str = "en") -> dict[str, Any]:
        url = f"/api/v1/engagements/{self.walk.engagement_id}/waves/{self.id}/readiness"
        response = self.walk.client.get(url, headers=auth(self.walk.tokens.coach, **{"Accept-Language": language}))
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["wave_id"] == self.id
        gate: dict[str, Any] = next(t for t in report["transitions"] if t["trigger"] == trigger)
        return gate

    def blocked(self, trigger: str, **failing: str) -> dict[str, Any]:
        """``trigger`` is refused by the wave's gate: the report names exactly these criteria, each with its reason,
        and so does the 409 of the transition itself (nothing moves); the same report reads in Chinese."""
        gate = self.gate(trigger)
        assert gate["allowed"] is False
        not_passed = {c["id"]: c["reason"] for c in gate["criteria"] if not c["passed"]}
        assert sorted(not_passed) == sorted(failing), not_passed
        for criterion_id, text in failing.items():
            assert text in not_passed[criterion_id], (criterion_id, not_passed[criterion_id])
        chinese = self.gate(trigger, "zh-TW")
        for english, translated in zip(gate["criteria"], chinese["criteria"], strict=True):
            assert (translated["id"], translated["passed"]) == (english["id"], english["passed"])
            assert translated["reason"] == english["reasons"]["zh-TW"] != english["reason"]
            assert CJK.search(translated["reason"]), translated["reason"]
            for said in (english["reason"], translated["reason"]):
                assert not KEY_OR_ID_LIST.search(said), (english["id"], said)
        phase = self.get()["phase"]
        problem = self.walk.send("POST", f"{self.path}/transitions", {"trigger": trigger}, 409)
        assert problem["type"].endswith("/problems/gate-refused"), problem
        assert problem["phase"] == phase
        assert {c["id"] for c in problem["readiness"]["criteria"] if not c["passed"]} == set(failing)
        assert all(text in problem["detail"] for text in failing.values()), problem["detail"]
        assert self.get()["phase"] == phase
        return gate

    def allowed(self, trigger: str) -> dict[str, Any]:
        gate = self.gate(trigger)
        assert gate["allowed"] is True, [(c["id"], c["reason"]) for c in gate["criteria"] if not c["passed"]]
        return gate

    def advance(self, trigger: str, dest: str) -> dict[str, Any]:
        moved: dict[str, Any] = self.walk.send("POST", f"{self.path}/transitions", {"trigger": trigger})
        assert (moved["trigger"], moved["wave"]["phase"]) == (trigger, dest)
        assert moved["readiness"]["allowed"] is True
        assert self.get()["phase"] == dest
        return moved


def organization_grows(walk: Walk, names: dict[str, tuple[str, ...]]) -> tuple[dict[int, str], dict[int, int],
                                                                               dict[int, list[int]]]:
    """New departments, each with a lead and three members."""
    departments, leads, members = {}, {}, {}
    for name, people in names.items():
        lead = walk.person(f"{name} lead", "department_lead")
        department = walk.department(name, pilot=False, lead_id=lead)
        departments[department], leads[department] = name, lead
        members[department] = [walk.person(person, "member", departments=(department,)) for person in people]
    return departments, leads, members


def train(run: WaveRun, hours: float, trainer: int | None) -> None:
    """The course over three days, every wave member attending every module."""
    for day, modules in enumerate((MODULES[:2], MODULES[2:3], MODULES[3:])):
        if day:
            run.walk.go_to(run.walk.today + timedelta(days=1))
        run.walk.record("/training-sessions", {"held_on": run.walk.today.isoformat(), "hours": hours,
                                               "modules": list(modules), "attendee_ids": run.everyone,
                                               "trainer_id": trainer})


def draft(run: WaveRun, quarter: dict[str, Any]) -> list[dict[str, Any]]:
    groups = [run.walk.drafting_group([run.leads[d], *members], d) for d, members in run.members.items()]
    run.okrs = [run.walk.okr(quarter, f"Make {run.departments[d]} better ({n})", person, d, "Progress")
                for d, members in run.members.items() for n, person in enumerate(members, 1)]
    return groups


def cycle_of(run: WaveRun, quarter: dict[str, Any]) -> Cycle:
    return Cycle(1, quarter, run.okrs, team_meetings={d: [run.leads[d], *m] for d, m in run.members.items()},
                 one_on_ones=[])


def test_two_waves_after_the_pilot_the_second_run_by_the_internal_coach_alone(
    app_client: TestClient, tokens: Tokens, clock: Clock
) -> None:
    walk = Walk.begin(app_client, tokens, clock, name="Formosa Freight", headcount=40)
    client = pilot.coach_engaged(walk)
    for step in (pilot.executive_meeting, pilot.kickoff, pilot.pilot_training, pilot.pilot_drafting,
                 pilot.coaches_appointed, pilot.q1_cycle, pilot.quarter_review, pilot.next_quarter, pilot.q2_cycle,
                 pilot.train_the_trainers, pilot.culture):
        step(walk, client)
    assert walk.phase() == "expansion"

    # --- the first wave, opened and trained by the external coach ------------------------------------------------
    walk.go_to(date(2026, 8, 21))
    departments, leads, members = organization_grows(walk, {
        "Marketing": ("Chou Li-hua", "Hsu Chih-wei", "Liao Pei-shan"),
        "Finance": ("Cheng Yu-ting", "Hung Ming-che", "Pan Hsiao-wen")})
    internal_coach = walk.person("Ho Mei-ling", "member", "internal_coach",
                                 departments=(next(iter(client.members)),))
    walk.update_appointment(walk.appoint(internal_coach, "internal_coach"), trained=True, trained_on="2026-08-21")
    sales = next(iter(client.members))
    problem = walk.send("POST", "/waves", {"name": "Wave 1", "department_ids": [*departments, sales],
                                           "owner_ids": [client.cfo]}, 422)
    assert {(e["field"], e["type"]) for e in problem["errors"]} == {
        ("body.department_ids[2]", "pilot_department"), ("body.owner_ids[0]", "not_internal_coach")}
    opened = walk.record("/waves", {"name": "Wave 1", "department_ids": list(departments),
                                    "owner_ids": [internal_coach]})
    assert (opened["phase"], opened["variant"], opened["final"]) == ("wave_training", None, False)
    assert opened["phase_title"] == {"en": "Wave training", "zh-TW": "梯次培訓"}
    assert {t["key"] for t in opened["open_tasks"]} == {"schedule_wave_training", "deliver_wave_training"}
    assert {(t["assignee_id"], t["wave_id"]) for t in opened["open_tasks"]} == {(internal_coach, opened["id"])}
    assert walk.phase() == "expansion"  # the engagement's own phase and tasks are untouched
    assert all(t["phase"] == "expansion" for t in walk.send("GET", f"/api/v1/engagements/{walk.engagement_id}")[
        "open_tasks"])
    first = WaveRun(walk, opened["id"], departments, leads, members, [])
    # As an engagement's transitions: a trigger of no wave transition is 422, one that does not leave the wave's
    # phase 409 naming those that do, an unknown wave 404, a stale If-Match 412.
    assert walk.send("POST", f"{first.path}/transitions", {"trigger": "start_q1"}, 422)["errors"][0]["type"] == \
        "unknown_trigger"
    assert walk.send("POST", f"{first.path}/transitions", {"trigger": "close_wave"}, 409)[
        "available_triggers"] == ["start_wave_drafting"]
    walk.send("GET", f"/waves/{first.id + 100}", None, 404)
    stale = app_client.post(f"/api/v1/engagements/{walk.engagement_id}{first.path}/transitions",
                            json={"trigger": "start_wave_drafting"}, headers=auth(tokens.coach, **{"If-Match": '"v0"'}))
    assert stale.status_code == 412, stale.text
    walk.send("POST", "/waves", {"name": "Wave 1", "department_ids": [], "owner_ids": [internal_coach]}, 422)

    # The pilot's 18 hours count for no one in the wave.
    first.blocked("start_wave_drafting", wave_training="0 of 18 training hours held")
    walk.go_to(date(2026, 8, 24))
    train(first, 6, tokens.coach_person_id)
    gate = first.allowed("start_wave_drafting")
    evidence = {c["id"]: c["evidence"] for c in gate["criteria"]}
    assert (evidence["wave_training"]["hours"], evidence["wave_training"]["pilot_people"]) == (18.0, 6)
    assert evidence["wave_trainer"]["required"] is False
    first.advance("start_wave_drafting", "wave_drafting")

    walk.go_to(date(2026, 8, 27))
    groups = [walk.drafting_group([leads[d], *m], d) for d, m in members.items()]
    first.blocked("start_wave_quarter", wave_drafting_duration="Drafting is still under way (0 days so far",
                  wave_planned="Quarter 1 of the wave is not set up yet",
                  wave_members_own_okrs="Quarter 1 of the wave is not set up yet")
    q4 = walk.quarter("Q4 2026", Q4_START)
    first.okrs = [walk.okr(q4, f"Make {departments[d]} better ({n})", person, d, "Progress")
                  for d, m in members.items() for n, person in enumerate(m[:2], 1)]
    first.blocked("start_wave_quarter", wave_drafting_duration="still under way",
                  wave_members_own_okrs="4 of 6 wave members own an OKR for Q4 2026")
    first.okrs += [walk.okr(q4, f"Make {departments[d]} better (3)", m[2], d, "Progress") for d, m in members.items()]
    walk.go_to(date(2026, 9, 10))
    for group in groups:
        walk.end_drafting(group)
    first.allowed("start_wave_quarter")
    first.advance("start_wave_quarter", "wave_quarter")

    # --- handover: the external coach leaves; the internal coach carries on ----------------------------------------
    walk.go_to(date(2026, 9, 11))
    handed = walk.send("POST", "/handover")
    assert handed["handed_over_at"] is not None and handed["phase"] == "expansion"
    walk.send("POST", "/handover", None, 409)
    refused = walk.send("POST", "/waves", {"name": "Wave 2", "department_ids": [1], "owner_ids": [internal_coach]},
                        409)
    assert "handed over" in refused["detail"]
    walk.send("POST", f"{first.path}/transitions", {"trigger": "end_wave_quarter"}, 409)
    assert walk.send("GET", "/waves")["items"][0]["phase"] == "wave_quarter"  # the coach still reads
    issued = app_client.post("/api/v1/tokens", json={"role": "internal_coach", "name": "Ho Mei-ling",
                                                     "person_id": internal_coach}, headers=auth(tokens.admin))
    assert issued.status_code == 201, issued.text
    ours = Walk(app_client, replace(tokens, coach=issued.json()["token"]), clock, walk.organization_id,
                walk.engagement_id, walk.playbook)
    first.led_by(ours)

    # --- the second wave: the shortened course, given by the internal coach ----------------------------------------
    departments, leads, members = organization_grows(ours, {
        "Operations": ("Yeh Chun-hung", "Su Ya-wen", "Lu Cheng-en"),
        "People": ("Tseng Hui-chen", "Chiang Po-yu", "Kao Shih-han")})
    problem = ours.send("POST", "/waves", {"name": "Wave 2", "department_ids": list(departments),
                                           "owner_ids": [internal_coach], "variant": "express"}, 422)
    assert problem["errors"][0]["type"] == "unknown_variant"
    opened = ours.record("/waves", {"name": "Wave 2", "department_ids": list(departments),
                                    "owner_ids": [internal_coach], "variant": "internal_trainer"})
    second = WaveRun(ours, opened["id"], departments, leads, members, [])
    assert [w["phase"] for w in ours.send("GET", "/waves")["items"]] == ["wave_quarter", "wave_training"]
    for reader in (walk, ours):  # several waves at once, each in its phase, on the coach's and the internal coach's
        row = next(r for r in reader.send("GET", "/api/v1/portfolio")["items"]
                   if r["engagement_id"] == walk.engagement_id)
        assert [(w["name"], w["phase_title"]["en"]) for w in row["waves"]] == [
            ("Wave 1", "The wave's first quarter"), ("Wave 2", "Wave training")]
    second.blocked("start_wave_drafting", wave_training="0 of 9 training hours held",
                   wave_trainer="No training session has been held yet.")
    ours.go_to(date(2026, 9, 14))
    unnamed = ours.record("/training-sessions", {"held_on": ours.today.isoformat(), "hours": 3,
                                                 "modules": list(MODULES[:2]), "attendee_ids": second.everyone})
    second.blocked("start_wave_drafting", wave_training="3 of 9 training hours held",
                   wave_trainer="1 session(s) name no trainer")
    ours.send("POST", f"/training-sessions/{unnamed['id']}/void", {"reason": "Entered without its trainer"})
    problem = ours.send("POST", "/training-sessions", {"held_on": ours.today.isoformat(), "hours": 3,
                                                       "modules": ["case_studies"], "trainer_id": 10_000}, 422)
    assert problem["errors"][0]["field"] == "body.trainer_id"
    train(second, 3, internal_coach)
    gate = second.allowed("start_wave_drafting")
    evidence = {c["id"]: c["evidence"] for c in gate["criteria"]}
    assert (evidence["wave_training"]["hours"], evidence["wave_training"]["required"]) == (9.0, 9.0)
    assert evidence["wave_trainer"]["internal_trainer_ids"] == [internal_coach]
    assert "Ho Mei-ling" in next(c["reason"] for c in gate["criteria"] if c["id"] == "wave_trainer")
    second.advance("start_wave_drafting", "wave_drafting")

    ours.go_to(date(2026, 9, 17))
    groups = [ours.drafting_group([leads[d], *m], d) for d, m in members.items()]
    second.blocked("start_wave_quarter", wave_drafting_duration="still under way (0 days so far",
                   wave_planned="No OKR for Q4 2026 yet in the wave departments Operations and People.",
                   wave_members_own_okrs="0 of 6 wave members own an OKR for Q4 2026")
    second.okrs = [ours.okr(q4, f"Run {departments[d]} well ({n})", person, d, "Progress")
                   for d, m in members.items() for n, person in enumerate(m, 1)]
    ours.go_to(date(2026, 10, 1))
    for group in groups:
        ours.end_drafting(group)
    second.allowed("start_wave_quarter")
    second.advance("start_wave_quarter", "wave_quarter")

    # --- both waves' first quarter, run by the internal coach ------------------------------------------------------
    cycles = [cycle_of(run, q4) for run in (first, second)]
    for week in range(WEEKS_PER_QUARTER):
        ours.go_to(cycles[0].monday(week + 1))
        if week == 0:
            for run in (first, second):
                run.blocked("end_wave_quarter", wave_quarter_ended="Q4 2026 runs until 2027-02-14",
                            wave_check_ins="0 of 6 (0%); 80% needed.",
                            wave_team_meetings="The weekly team meeting every 7 days is behind")
        for cycle in cycles:
            ours.record_week(cycle, week)
    for run in (first, second):
        gate = run.allowed("end_wave_quarter")
        check_ins = next(c["evidence"] for c in gate["criteria"] if c["id"] == "wave_check_ins")
        assert (check_ins["key_results"], check_ins["check_ins_on_time"], check_ins["rate"]) == (6, 78, 1.0)
        run.advance("end_wave_quarter", "wave_review")

    # --- the waves' reviews -----------------------------------------------------------------------------------------
    # A decision waits for the whole quarter to be scored: the pilot's OKR carried into Q4 2026 too.
    for run in (first, second):
        run.blocked("close_wave", wave_scored="6 OKR(s) unscored", wave_decided="0 of 6 OKRs of Q4 2026")
    for okr in ours.okrs_of(q4):
        ours.score(okr, 0.7)
    for run in (first, second):
        run.blocked("close_wave", wave_decided="0 of 6 OKRs of Q4 2026")
        for okr in run.okrs:
            ours.decide(okr, "complete")
        run.allowed("close_wave")
        closed = run.advance("close_wave", "wave_done")
        assert closed["wave"]["final"] is True and closed["wave"]["open_tasks"] == []

    # --- what the history and the webhooks carry --------------------------------------------------------------------
    events = walk.events()
    opened_events = [e for e in events if e["type"] == "wave.opened"]
    assert [e["payload"]["wave"]["name"] for e in opened_events] == ["Wave 1", "Wave 2"]
    assert opened_events[1]["actor"] == "internal_coach:Ho Mei-ling"
    moves = [e["payload"] for e in events if e["type"] == "wave.transitioned"]
    assert [(m["wave"]["id"], m["to"]) for m in moves] == [
        (first.id, "wave_drafting"), (first.id, "wave_quarter"), (second.id, "wave_drafting"),
        (second.id, "wave_quarter"), (first.id, "wave_review"), (second.id, "wave_review"),
        (first.id, "wave_done"), (second.id, "wave_done")]
    refusals = [e["payload"] for e in events if e["type"] == "gate.refused" and "wave" in e["payload"]]
    assert {(r["wave"]["id"], r["trigger"]) for r in refusals} == {
        (run.id, trigger) for run in (first, second)
        for trigger in ("start_wave_drafting", "start_wave_quarter", "end_wave_quarter", "close_wave")}
    assert [e["type"] for e in events].count("engagement.handed_to_internal_coaches") == 1
    assert walk.phase() == "expansion"
