"""The baselines of the HTTP benchmarks: bare FastAPI endpoints.

``GET /engagements/{id}`` and ``POST /engagements/{id}/transitions`` run the statements the API runs for the same
requests, written by hand on the raw driver (sqlite3 or psycopg, one connection per worker thread, no pool
library, no SQLAlchemy, no pydantic): the token check, the visibility rule, the engagement (locked, for a
transition), the facts its gate reads, the writes (phase, tasks with their checklists, the event), and the
answer: the engagement with its coaches and open tasks (read back, or for a transition into a phase that had no
tasks, made from what was written, as the API does). The statements go one after the other, as code on
a driver naturally sends them.

    OKR_BENCH_DATABASE_URL=sqlite:///bench.db uvicorn benchmarks.bare_app:app
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Header, Response

app = FastAPI()
DATABASE_URL = os.environ.get("OKR_BENCH_DATABASE_URL", "")
POSTGRESQL = DATABASE_URL.startswith("postgresql")  # the in-process baseline sets it for its database
OUTBOX_ORDER_LOCK = 7_202_612
# The one transition the benchmark fires: its destination and the tasks entering it creates, as the playbook
# gives them (read once at start-up; the API reads its cached playbook too).
TRIGGER, SOURCE, DEST = "schedule_executive_meeting", "coach_engaged", "executive_meeting"


def _tasks_of_destination() -> list[dict[str, Any]]:
    from okr_rollout.playbooks import PlaybookRegistry

    registry = PlaybookRegistry.from_directory(Path(__file__).resolve().parents[1] / "playbooks")
    playbook = registry.get("standard")
    return [{"key": task.spec.id, "en": task.spec.title.en, "zh_tw": task.spec.title.zh_tw, "role": task.spec.role,
             "due_days": task.due_days,
             "checklist": [(item.id, item.title.en, item.title.zh_tw) for item in task.spec.checklist]}
            for task in playbook.tasks.get(DEST, ())]


TASKS = _tasks_of_destination()
_local = threading.local()


def _connection() -> Any:
    connection = getattr(_local, "connection", None)
    if connection is None:
        if POSTGRESQL:
            import psycopg

            connection = psycopg.connect(DATABASE_URL.replace("postgresql+psycopg://", "postgresql://"),
                                         autocommit=True)
        else:
            connection = sqlite3.connect(DATABASE_URL.removeprefix("sqlite:///"), isolation_level=None,
                                         check_same_thread=False, timeout=15)
            connection.execute("PRAGMA foreign_keys=ON")
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
        _local.connection = connection
    return connection


def _sql(statement: str) -> str:
    return statement.replace("?", "%s") if POSTGRESQL else statement


def _stored_time(moment: datetime) -> Any:
    # As SQLAlchemy stores a timestamp: SQLite keeps text, PostgreSQL a timestamptz.
    return moment if POSTGRESQL else moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _read_time(value: Any) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is None:
        return None  # type: ignore[return-value]
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)).isoformat()


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _caller(connection: Any, authorization: str | None) -> tuple[Any, ...] | None:
    if authorization is None or not authorization.lower().startswith("bearer "):
        return None
    token_hash = hashlib.sha256(authorization[7:].encode()).hexdigest()
    # The person's language comes along, as in the application (problems are written in it).
    return connection.execute(_sql("SELECT t.id, t.name, t.role, t.person_id, t.organization_id, t.scopes, p.locale "
                                   "FROM api_tokens t LEFT JOIN people p ON p.id = t.person_id "
                                   "WHERE t.token_hash = ? AND t.revoked_at IS NULL"), (token_hash,)).fetchone()


_ENGAGEMENT = ("SELECT id, organization_id, playbook_id, playbook_version, playbook_sha256, phase, entered_phase_at, "
               "created_at, updated_at, version FROM engagements WHERE id = ?")


def _visible(caller: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    role, person_id, organization_id = caller[2], caller[3], caller[4]
    if role in ("admin", "integration"):
        return "", ()
    if role == "coach":
        return (" AND EXISTS (SELECT 1 FROM engagement_coaches WHERE engagement_coaches.engagement_id = "
                "engagements.id AND engagement_coaches.person_id = ?)", (person_id,))
    return " AND engagements.organization_id = ?", (organization_id,)


_COACHES = "SELECT person_id FROM engagement_coaches WHERE engagement_id = ? ORDER BY person_id"
_OPEN_TASKS = (
    "SELECT t.id, t.engagement_id, t.phase, t.task_key, t.title_en, t.title_zh_tw, t.role, t.due_at, t.done, "
    "t.done_at, t.assignee_id, t.version, c.id, c.item_key, c.title_en, c.title_zh_tw, c.checked, c.checked_at "
    "FROM tasks t JOIN engagements e ON e.id = t.engagement_id AND e.phase = t.phase "
    "LEFT OUTER JOIN checklist_items c ON c.task_id = t.id "
    "WHERE e.id = ? AND t.wave_id IS NULL AND t.done = ? AND t.obsolete_at IS NULL "
    "ORDER BY t.due_at, t.id, c.position")


def _engagement_json(connection: Any, row: tuple[Any, ...], coach_ids: list[int] | None = None,
                     open_tasks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The engagement as JSON; its coaches and open tasks read unless given."""
    (engagement_id, organization_id, playbook_id, playbook_version, playbook_sha256, phase, entered_phase_at,
     created_at, _updated_at, version) = row
    if coach_ids is None:
        coach_ids = [person_id for (person_id,) in connection.execute(_sql(_COACHES), (engagement_id,))]
    tasks: dict[int, dict[str, Any]] = {}
    for task_row in ([] if open_tasks is not None else connection.execute(_sql(_OPEN_TASKS), (engagement_id, False))):
        task = tasks.get(task_row[0])
        if task is None:
            task = tasks[task_row[0]] = {
                "id": task_row[0], "engagement_id": task_row[1], "phase": task_row[2], "key": task_row[3],
                "title": {"en": task_row[4], "zh-TW": task_row[5]}, "role": task_row[6],
                "due_at": _read_time(task_row[7]), "done": bool(task_row[8]), "done_at": _read_time(task_row[9]),
                "assignee_id": task_row[10], "checklist": [], "version": task_row[11]}
        if task_row[12] is not None:
            task["checklist"].append({"id": task_row[12], "key": task_row[13],
                                      "title": {"en": task_row[14], "zh-TW": task_row[15]},
                                      "checked": bool(task_row[16]), "checked_at": _read_time(task_row[17])})
    return {"id": engagement_id, "organization_id": organization_id, "phase": phase,
            "entered_phase_at": _read_time(entered_phase_at),
            "playbook": {"id": playbook_id, "version": playbook_version, "sha256": playbook_sha256},
            "coach_ids": coach_ids, "created_at": _read_time(created_at), "version": version,
            "open_tasks": list(tasks.values()) if open_tasks is None else open_tasks}


def _written_task(task_id: int, engagement_id: int, task: dict[str, Any], now: datetime,
                  item_ids: dict[tuple[int, int], int]) -> dict[str, Any]:
    return {"id": task_id, "engagement_id": engagement_id, "phase": DEST, "key": task["key"],
            "title": {"en": task["en"], "zh-TW": task["zh_tw"]}, "role": task["role"],
            "due_at": _read_time(now + timedelta(days=task["due_days"])), "done": False, "done_at": None,
            "assignee_id": None, "version": 1,
            "checklist": [{"id": item_ids[(task_id, position)], "key": key, "title": {"en": en, "zh-TW": zh_tw},
                           "checked": False, "checked_at": None}
                          for position, (key, en, zh_tw) in enumerate(task["checklist"])]}


def _problem(status: int) -> Response:
    return Response(json.dumps({"status": status}), status_code=status, media_type="application/problem+json")


# ``GET /portfolio``: the statements the API ran for page 1 of the portfolio, captured from its driver with their
# parameters (``benchmarks/scale.py``), run again here one after the other on the raw connection.
_PORTFOLIO = os.environ.get("OKR_BENCH_PORTFOLIO")
PORTFOLIO_STATEMENTS: list[tuple[str, Any]] = pickle.loads(Path(_PORTFOLIO).read_bytes()) if _PORTFOLIO else []


@app.get("/portfolio")
def portfolio_page() -> Response:
    connection = _connection()
    if not POSTGRESQL:
        connection.execute("BEGIN")
    try:
        results = [connection.execute(statement, parameters).fetchall()
                   for statement, parameters in PORTFOLIO_STATEMENTS]
    finally:
        if not POSTGRESQL:
            connection.execute("COMMIT")
    # The page's rows are the widest result: answered as JSON, values as text where JSON has no type for them.
    page = max(results, key=lambda rows: len(rows[0]) if rows else 0, default=[])
    return Response(json.dumps({"items": [list(row) for row in page]}, default=str), media_type="application/json")


@app.get("/healthz")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/engagements/{engagement_id}")
def get_engagement(engagement_id: int, authorization: str | None = Header(None)) -> Response:
    connection = _connection()
    if not POSTGRESQL:
        connection.execute("BEGIN")
    try:
        caller = _caller(connection, authorization)
        if caller is None:
            return _problem(401)
        where, values = _visible(caller)
        row = connection.execute(_sql(_ENGAGEMENT + where), (engagement_id, *values)).fetchone()
        if row is None:
            return _problem(404)
        body = _engagement_json(connection, row)
    finally:
        if not POSTGRESQL:
            connection.execute("COMMIT")
    return Response(json.dumps(body), media_type="application/json", headers={"ETag": f'"v{body["version"]}"'})


def _lock(connection: Any, authorization: str | None, engagement_id: int, source: str
          ) -> tuple[tuple[Any, ...], tuple[Any, ...]] | int:
    """The caller and the engagement, locked, as the caller may see it in ``source``; else the HTTP status."""
    caller = _caller(connection, authorization)
    if caller is None:
        return 401
    where, values = _visible(caller)
    row = connection.execute(_sql(_ENGAGEMENT + where + (" FOR UPDATE OF engagements" if POSTGRESQL else "")),
                             (engagement_id, *values)).fetchone()
    if row is None or row[5] != source:
        return 404 if row is None else 409
    return caller, row


def _move(connection: Any, engagement_id: int, row: tuple[Any, ...], dest: str, stored_now: Any) -> bool:
    """The phase changed, if the engagement is still at the version read."""
    moved = connection.execute(_sql(
        "UPDATE engagements SET phase = ?, entered_phase_at = ?, updated_at = ?, version = version + 1 "
        "WHERE id = ? AND version = ?"), (dest, stored_now, stored_now, engagement_id, row[9]))
    return bool(moved.rowcount == 1)


def _record(connection: Any, caller: tuple[Any, ...], row: tuple[Any, ...], stored_now: Any,
            payload: dict[str, Any]) -> None:
    """The transition's event, in the outbox's order, and the engagement's readiness marked stale in the same
    transaction, as every write of the API does."""
    if POSTGRESQL:
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (OUTBOX_ORDER_LOCK,))
    connection.execute(_sql(
        "INSERT INTO events (type, actor, occurred_at, organization_id, engagement_id, payload) "
        "VALUES (?, ?, ?, ?, ?, ?) RETURNING id"),
        ("engagement.transitioned", f"{caller[2]}:{caller[1]}", stored_now, row[1], row[0],
         json.dumps(payload))).fetchone()
    connection.execute(_sql(
        "INSERT INTO readiness_snapshots (engagement_id, phase, digest, summary, updated_at, failed_criteria, "
        "gate_passed, gate_total, stale, marks, health_reasons) VALUES (?, '', '', '{}', ?, '[]', 0, 0, ?, 1, "
        "'[]') ON CONFLICT (engagement_id) DO UPDATE SET stale = ?, marks = readiness_snapshots.marks + 1, "
        "next_reminder_at = NULL"), (row[0], stored_now, True, True))


def _write_tasks(connection: Any, engagement_id: int, dest: str, tasks: list[dict[str, Any]], now: datetime,
                 stored_now: Any) -> tuple[dict[str, int], list[int], dict[tuple[int, int], int]]:
    """The phase's earlier tasks (a phase entered again starts a new round of its tasks), then its tasks and their
    checklist items in one INSERT each, returning the ids given: (the rounds, the task ids, the item ids)."""
    rounds = {key: last for key, last in connection.execute(_sql(
        "SELECT task_key, max(round) FROM tasks WHERE engagement_id = ? AND wave_id IS NULL AND phase = ? "
        "GROUP BY phase, task_key"), (engagement_id, dest)).fetchall()}
    task_rows = [(engagement_id, dest, task["key"], rounds.get(task["key"], 0) + 1, task["en"], task["zh_tw"],
                  task["role"], _stored_time(now + timedelta(days=task["due_days"])), False, stored_now)
                 for task in tasks]
    ids = {key: task_id for task_id, key in connection.execute(_sql(
        "INSERT INTO tasks (engagement_id, phase, task_key, round, title_en, title_zh_tw, role, due_at, done, "
        "created_at, version) VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)"] * len(task_rows))
        + " RETURNING id, task_key"), [value for row in task_rows for value in row]).fetchall()}
    task_ids = [ids[task["key"]] for task in tasks]
    items = [(task_id, key, position, en, zh_tw, False)
             for task_id, task in zip(task_ids, tasks, strict=True)
             for position, (key, en, zh_tw) in enumerate(task["checklist"])]
    item_ids = {(task_id, position): item_id for item_id, task_id, position in connection.execute(_sql(
        "INSERT INTO checklist_items (task_id, item_key, position, title_en, title_zh_tw, checked) VALUES "
        + ", ".join(["(?, ?, ?, ?, ?, ?)"] * len(items)) + " RETURNING id, task_id, position"),
        [value for item in items for value in item]).fetchall()} if items else {}
    return rounds, task_ids, item_ids


def _answer(connection: Any, moved_row: tuple[Any, ...], rounds: dict[str, int], coaches: list[Any],
            task_ids: list[int], tasks: list[dict[str, Any]], now: datetime,
            item_ids: dict[tuple[int, int], int]) -> dict[str, Any]:
    """The answer, as the API makes it: the engagement as moved, its coaches as read for the gate, and its open
    tasks as written when the phase had none before (else read back, in the transaction)."""
    if rounds:
        return _engagement_json(connection, moved_row)
    return _engagement_json(connection, moved_row, coach_ids=sorted(c[1] for c in coaches),
                            open_tasks=sorted((_written_task(task_id, moved_row[0], task, now, item_ids)
                                               for task_id, task in zip(task_ids, tasks, strict=True)),
                                              key=lambda task: (task["due_at"], task["id"])))


@app.post("/engagements/{engagement_id}/transitions")
def fire_transition(engagement_id: int, authorization: str | None = Header(None)) -> Response:
    answer = transition(_connection(), authorization, engagement_id, datetime.now(UTC))
    if isinstance(answer, int):
        return _problem(answer)
    return Response(json.dumps(answer), media_type="application/json",
                    headers={"ETag": f'"v{answer["engagement"]["version"]}"'})


def transition(connection: Any, authorization: str | None, engagement_id: int, now: datetime
               ) -> dict[str, Any] | int:
    """The transition's statements on ``connection`` (sqlite3 with isolation_level None, or psycopg in autocommit):
    its answer's body, or an HTTP status when refused. Also run in-process by ``benchmarks/cases.py``."""
    connection.execute("BEGIN" if POSTGRESQL else "BEGIN IMMEDIATE")
    try:
        locked = _lock(connection, authorization, engagement_id, SOURCE)
        if isinstance(locked, int):
            connection.execute("ROLLBACK")
            return locked
        caller, row = locked
        # The facts the gate reads: the engagement with its organization, and its coaches.
        connection.execute(_sql(
            "SELECT e.id, e.phase, e.entered_phase_at, e.organization_id, o.name, o.headcount, o.timezone, "
            "o.mission, o.vision_1y, o.vision_5y, o.vision_10y, o.strategies, o.challenges, o.okr_software "
            "FROM engagements e JOIN organizations o ON o.id = e.organization_id WHERE e.id = ?"),
            (engagement_id,)).fetchone()
        coaches = connection.execute(_sql("SELECT engagement_id, person_id FROM engagement_coaches "
                                          "WHERE engagement_id = ?"), (engagement_id,)).fetchall()
        if not coaches:
            connection.execute("ROLLBACK")
            return 409
        stored_now = _stored_time(now)
        if not _move(connection, engagement_id, row, DEST, stored_now):
            connection.execute("ROLLBACK")
            return 409
        rounds, task_ids, item_ids = _write_tasks(connection, engagement_id, DEST, TASKS, now, stored_now)
        _record(connection, caller, row, stored_now, {"trigger": TRIGGER, "from": SOURCE, "to": DEST, "criteria": [
            {"id": "coach_assigned", "passed": True}], "task_ids": task_ids})
        engagement_body = _answer(connection, (*row[:5], DEST, now, row[7], now, row[9] + 1), rounds, coaches,
                                  task_ids, TASKS, now, item_ids)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return {"engagement": engagement_body, "from_phase": SOURCE, "trigger": TRIGGER,
            "readiness": {"trigger": TRIGGER, "destination": DEST, "allowed": True, "passed": 1, "total": 1,
                          "criteria": [{"id": "coach_assigned", "kind": "coach_assigned", "severity": "block",
                                        "passed": True, "reason": "", "reasons": {"en": "", "zh-TW": ""},
                                        "evidence": {"coaches": len(coaches)}}]}}


# ``POST /engagements/{id}/heavy-transitions``: the heaviest gate of the standard playbook, ``end_q1`` (q1_cycle ->
# quarter_review: Q1 ended, its check-ins, weekly team meetings and 1:1s on time), with the statements the API runs
# for it, in its order: the token, the engagement locked, the facts (the engagement with its organization, coaches,
# people, memberships, departments, meetings, quarters, OKRs, key results, check-ins, appointments), the gate
# evaluated on the rows by plain loops, the move, the destination's tasks (their rounds, one insert for the tasks, one
# for the checklists), who they are for (from the coaches, people, memberships, departments and appointments read with
# the gate's facts), the event, the readiness mark, the answer (read back only when the phase had tasks). The
# playbook's numbers are read once at start-up.
HEAVY_TRIGGER, HEAVY_SOURCE, HEAVY_DEST = "end_q1", "q1_cycle", "quarter_review"


def _heavy_gate() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from okr_rollout.playbooks import PlaybookRegistry

    playbook = PlaybookRegistry.from_directory(Path(__file__).resolve().parents[1] / "playbooks").get("standard")
    tasks = [{"key": task.spec.id, "en": task.spec.title.en, "zh_tw": task.spec.title.zh_tw, "role": task.spec.role,
              "due_days": task.due_days,
              "checklist": [(item.id, item.title.en, item.title.zh_tw) for item in task.spec.checklist]}
             for task in playbook.tasks.get(HEAVY_DEST, ())]
    return tasks, dict(playbook.parameters)


HEAVY_TASKS, HEAVY_PARAMETERS = _heavy_gate()
_OF_ORGANIZATION = "IN (SELECT organization_id FROM engagements WHERE id = ?)"
_HEAVY_FACTS = {
    "engagement": "SELECT e.id, e.phase, e.entered_phase_at, o.id, o.name, o.headcount, o.timezone, o.mission, "
                  "o.vision_1y, o.vision_5y, o.vision_10y, o.strategies, o.challenges, o.okr_software "
                  "FROM engagements e JOIN organizations o ON o.id = e.organization_id WHERE e.id = ?",
    "people": f"SELECT organization_id, id, name, roles FROM people WHERE organization_id {_OF_ORGANIZATION}",
    "memberships": "SELECT pd.person_id, pd.department_id FROM person_departments pd JOIN people p "
                   f"ON p.id = pd.person_id WHERE p.organization_id {_OF_ORGANIZATION}",
    "departments": "SELECT organization_id, id, name, is_pilot, lead_id FROM departments "
                   f"WHERE organization_id {_OF_ORGANIZATION}",
    "meetings": "SELECT engagement_id, id, kind, held_at, attendee_ids, outcomes, department_id, status, "
                "counts_for_ids FROM meetings WHERE voided_at IS NULL AND engagement_id = ?",
    "quarters": "SELECT engagement_id, id, label, starts_on, ends_on FROM quarters "
                "WHERE voided_at IS NULL AND engagement_id = ?",
    "okrs": "SELECT engagement_id, id, quarter_id, objective, owner_id, department_id, score, decision, created_at, "
            "carried_from_id, prepared_on FROM okrs WHERE voided_at IS NULL AND engagement_id = ?",
    "key_results": "SELECT engagement_id, id, okr_id, metric FROM key_results "
                   "WHERE voided_at IS NULL AND engagement_id = ?",
    "check_ins": "SELECT engagement_id, key_result_id, week_of, value, confidence FROM check_ins "
                 "WHERE voided_at IS NULL AND engagement_id = ?",
}
_HEAVY_FACTS |= {
    "coaches": "SELECT engagement_id, person_id FROM engagement_coaches WHERE engagement_id = ?",
    "appointments": "SELECT engagement_id, person_id, role, trained, trained_on, ready FROM appointments "
                    "WHERE voided_at IS NULL AND engagement_id = ?",
}


def _day(value: Any) -> Any:
    from datetime import date

    return date.fromisoformat(value) if isinstance(value, str) else value


def _end_q1_gate(rows: dict[str, list[Any]], now: datetime) -> list[dict[str, Any]]:
    """The four criteria of ``end_q1`` on the rows, in plain loops: Q1 (the first quarter by start) ended; a
    check-in in enough of its weekly periods per key result; enough team meetings per pilot department and 1:1s
    per pilot member, every so many days."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(rows["engagement"][0][6] or "UTC")
    today = now.astimezone(zone).date()
    quarters = sorted((_day(q[3]), q[1], _day(q[4])) for q in rows["quarters"])
    if not quarters:
        return [{"id": "q1_ended", "passed": False}]
    starts, quarter_id, ends = quarters[0]
    end = min(ends, today)
    elapsed = max(0, (end - starts).days + 1)
    okr_ids = {okr[1] for okr in rows["okrs"] if okr[2] == quarter_id}
    key_results = {kr[1] for kr in rows["key_results"] if kr[2] in okr_ids}
    interval = int(HEAVY_PARAMETERS["check_in_interval_days"])
    periods = elapsed // interval
    on_time = {(c[1], (_day(c[2]) - starts).days // interval) for c in rows["check_ins"]
               if c[1] in key_results and starts <= _day(c[2]) <= end}
    possible = periods * len(key_results)
    rate = len({p for p in on_time if p[1] < periods}) / possible if possible else 0.0
    pilots = {d[1] for d in rows["departments"] if d[3]}
    pilot_people = {m[0] for m in rows["memberships"] if m[1] in pilots}
    held = [(m[2], m[6], _json(m[4]), _json(m[8])) for m in rows["meetings"]
            if m[7] == "held" and starts <= _stored_day(m[3], zone) <= end]
    minimum = float(HEAVY_PARAMETERS["meeting_min_rate"])
    team_expected = elapsed // int(HEAVY_PARAMETERS["team_meeting_interval_days"])
    teams = [sum(1 for kind, department, _, _ in held if kind == "weekly_team" and department in (d, None))
             for d in pilots]
    one_expected = elapsed // int(HEAVY_PARAMETERS["one_on_one_interval_days"])
    ones = [sum(1 for kind, _, attendees, counted in held if kind == "one_on_one" and p in (counted or attendees))
            for p in pilot_people]
    return [{"id": "q1_ended", "passed": ends < today},
            {"id": "q1_check_ins", "passed": bool(key_results) and (
                periods == 0 or rate >= float(HEAVY_PARAMETERS["check_in_min_rate"]))},
            {"id": "q1_team_meetings", "passed": bool(teams) and all(
                not team_expected or count / team_expected >= minimum for count in teams)},
            {"id": "q1_one_on_ones", "passed": bool(ones) and all(
                not one_expected or count / one_expected >= minimum for count in ones)}]


def _stored_day(value: Any, zone: Any) -> Any:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment).astimezone(zone).date()


@app.post("/engagements/{engagement_id}/heavy-transitions")
def fire_heavy_transition(engagement_id: int, authorization: str | None = Header(None)) -> Response:
    answer = heavy_transition(_connection(), authorization, engagement_id, datetime.now(UTC))
    if isinstance(answer, int):
        return _problem(answer)
    return Response(json.dumps(answer), media_type="application/json",
                    headers={"ETag": f'"v{answer["engagement"]["version"]}"'})


def heavy_transition(connection: Any, authorization: str | None, engagement_id: int, now: datetime
                     ) -> dict[str, Any] | int:
    """``end_q1`` on ``connection`` (as ``transition``): its answer's body, or an HTTP status when refused."""
    connection.execute("BEGIN" if POSTGRESQL else "BEGIN IMMEDIATE")
    try:
        locked = _lock(connection, authorization, engagement_id, HEAVY_SOURCE)
        if isinstance(locked, int):
            connection.execute("ROLLBACK")
            return locked
        caller, row = locked
        # The gate's facts and those telling who the tasks are for, read once, in the API's order.
        facts = {name: connection.execute(_sql(_HEAVY_FACTS[name]), (engagement_id,)).fetchall()
                 for name in ("engagement", "coaches", "people", "memberships", "departments", "meetings", "quarters",
                              "okrs", "key_results", "check_ins", "appointments")}
        criteria = _end_q1_gate(facts, now)
        if not all(criterion["passed"] for criterion in criteria):
            connection.execute("ROLLBACK")
            return 409
        stored_now = _stored_time(now)
        if not _move(connection, engagement_id, row, HEAVY_DEST, stored_now):
            connection.execute("ROLLBACK")
            return 409
        rounds, task_ids, item_ids = _write_tasks(connection, engagement_id, HEAVY_DEST, HEAVY_TASKS, now,
                                                  stored_now)
        # Who each task is for, from the organization as it stands.
        roles = facts
        pilots = {d[1] for d in roles["departments"] if d[3]}
        people_of = {"pilot_member": sorted({m[0] for m in roles["memberships"] if m[1] in pilots}),
                     "department_lead": sorted({d[4] for d in roles["departments"] if d[3] and d[4] is not None})}
        assignees = [(task_id, person_id) for task_id, task in zip(task_ids, HEAVY_TASKS, strict=True)
                     for person_id in people_of.get(task["role"], ())]
        if assignees:
            connection.cursor().executemany(_sql("INSERT INTO task_assignees (task_id, person_id) VALUES (?, ?)"),
                                            assignees)
        _record(connection, caller, row, stored_now, {
            "trigger": HEAVY_TRIGGER, "from": HEAVY_SOURCE, "to": HEAVY_DEST,
            "criteria": [{"id": c["id"], "passed": c["passed"]} for c in criteria], "task_ids": task_ids})
        engagement_body = _answer(connection, (*row[:5], HEAVY_DEST, now, row[7], now, row[9] + 1), rounds,
                                  facts["coaches"], task_ids, HEAVY_TASKS, now, item_ids)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return {"engagement": engagement_body, "from_phase": HEAVY_SOURCE, "trigger": HEAVY_TRIGGER,
            "readiness": {"trigger": HEAVY_TRIGGER, "destination": HEAVY_DEST, "allowed": True,
                          "passed": len(criteria), "total": len(criteria), "criteria": criteria}}
