"""Twenty clients fire transitions at the same five engagements at once (SQLite and PostgreSQL).

Each engagement can move twice (its first two gates pass) and its third gate refuses. Every client sends the
three triggers of one engagement three times over, all clients released together. Whatever the interleaving:
- each phase change is decided once: exactly one 200 per engagement and passing trigger, and one
  ``engagement.transitioned`` event for it;
- every other attempt is a 409 that wrote nothing, except the gate's refusals, each recorded once;
- no task and no event is written twice (``_history.assert_consistent``).
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import Clock, Tokens, auth
from tests.reliability._history import assert_consistent, snapshot
from tests.reliability._seed import API, engagement_ready_for_kickoff, organization_with_people

CLIENTS = 20
ENGAGEMENTS = 5
ROUNDS = 3
MOVES = {"schedule_executive_meeting": "executive_meeting", "hold_kickoff": "kickoff"}
REFUSED = "start_pilot_training"  # from kickoff: mission, visions and strategies are not all recorded
WAIT = 120  # seconds: an upper bound for threads that should finish at once, never a pause


def test_twenty_clients_five_engagements_each_gate_decided_once(
        app_client: TestClient, tokens: Tokens, engine: Engine, clock: Clock) -> None:
    today: date = clock().date()
    organization_id, people = organization_with_people(app_client, tokens.admin, "Race")
    engagement_ids = [engagement_ready_for_kickoff(app_client, tokens.admin, organization_id,
                                                   tokens.coach_person_id, today, people["ceo_id"])
                      for _ in range(ENGAGEMENTS)]
    answers: Counter[tuple[int, str, int, str]] = Counter()  # (engagement, trigger, status, problem type)
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(CLIENTS)

    def client(number: int) -> None:
        engagement_id = engagement_ids[number % ENGAGEMENTS]
        token = tokens.coach if number % 2 else tokens.admin
        try:
            start.wait(WAIT)
            for _ in range(ROUNDS):
                for trigger in [*MOVES, REFUSED]:
                    response = app_client.post(f"{API}/engagements/{engagement_id}/transitions",
                                               json={"trigger": trigger}, headers=auth(token))
                    kind = response.json()["type"] if response.status_code >= 400 else ""
                    with lock:
                        answers[(engagement_id, trigger, response.status_code, kind)] += 1
        except BaseException as error:
            with lock:
                errors.append(error)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in threads), "a client never finished"
    assert errors == []

    assert {status for (_e, _t, status, _k) in answers} <= {200, 409}, answers
    state = snapshot(engine)
    assert_consistent(state)
    for engagement_id in engagement_ids:
        for trigger in MOVES:
            assert answers[(engagement_id, trigger, 200, "")] == 1, (engagement_id, trigger, answers)
        assert [(t["trigger"], t["to"]) for t in state.transitions(engagement_id)] == list(MOVES.items())
        assert state.engagements[engagement_id] == "kickoff"
        refusals = sum(n for (e, t, status, kind), n in answers.items()
                       if e == engagement_id and kind == "/problems/gate-refused")
        assert refusals >= 1  # every client's last round reaches the refusing gate from kickoff
        recorded = [e for e in state.of_type("gate.refused") if e.engagement_id == engagement_id]
        assert len(recorded) == refusals
        assert {e.payload["trigger"] for e in recorded} == {REFUSED}
