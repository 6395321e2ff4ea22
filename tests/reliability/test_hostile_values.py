"""Property: whatever a client writes through the API's create and update operations of one engagement, every
page, document and feed of that engagement still answers, and no write answers 5xx.

Each example sends every operation once per field it fuzzes, with a hostile value of that field's kind: dates at
the bounds and far outside them, moments with the widest offsets, line breaks of every kind (CR, LF, U+2028,
NEL, VT), NUL, very long strings, markup and iCalendar/header injections, time zones at the edges of the
offsets. Then it renders everything (``_render.server_errors``). Bounded: one app and one seeded engagement for
the whole test, a few examples.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Clock, Tokens, auth
from tests.reliability._render import add_admin_login, server_errors, sign_in
from tests.reliability._seed import API, seed_engagement

HOSTILE_TEXTS = [
    "Acme\r\nEND:VCALENDAR", "a\rBEGIN:VEVENT\rUID:x\rSUMMARY:forged\rEND:VEVENT", "trailing\n", "\n",
    "line\u2028separator\u2029paragraph", "next\x85line", "vertical\x0btab\x0cfeed\x1cfile", "nul\x00byte",
    "<script>alert(1)</script>", '"; filename="evil.exe', "Subject: forged\r\nBcc: x@example.com",
    "\\;,:", "{{7*7}} ${7*7}", "中文\u202eRTL 🎯", " ", "x" * 201, "y" * 10_001,
]
_ALPHABET = list("ab Z;,:\\\"'<>&\r\n\t\x00\x0b\x85\u2028\u2029\u202e中🎯")
TEXTS = st.one_of(st.sampled_from(HOSTILE_TEXTS), st.text(alphabet=st.sampled_from(_ALPHABET), max_size=40))
DATES = st.one_of(
    st.sampled_from(["0001-01-01", "1969-12-31", "1970-01-01", "2200-12-31", "2201-01-01", "9999-12-31",
                     "2025-12-01", "2026-02-29", "not a date"]),
    st.dates().map(date.isoformat),
)
_OFFSETS = [UTC, timezone(timedelta(hours=-12)), timezone(timedelta(hours=14)), timezone(timedelta(hours=-8))]
MOMENTS = st.one_of(
    st.sampled_from(["0001-01-01T00:00:00Z", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00",
                     "1970-01-01T11:59:59Z", "1970-01-01T12:00:00Z", "2200-12-31T09:59:59Z", "2200-12-31T10:00:00Z",
                     "2025-12-01T10:00:00", "2025-12-01T10:00:00+08:00"]),
    st.datetimes(timezones=st.sampled_from(_OFFSETS)).map(datetime.isoformat),
)
ZONES = st.sampled_from(["America/Los_Angeles", "Pacific/Kiritimati", "Etc/GMT+12", "Asia/Taipei", "UTC"])
KINDS: dict[str, st.SearchStrategy[Any]] = {
    "text": TEXTS, "texts": st.lists(TEXTS, min_size=1, max_size=3), "date": DATES, "moment": MOMENTS,
    "zone": ZONES,
}


@dataclass(frozen=True)
class Write:
    method: str
    path: str  # formatted with the seeded ids
    base: dict[str, Any]  # a valid body; each fuzzed field replaces one of its values
    fields: dict[str, str]  # field -> kind of hostile value


def writes(ids: dict[str, int]) -> list[Write]:
    """Every create and update operation of one engagement and its organization, with the fields that take text
    or dates (ids, numbers and enumerations are schemathesis' business in test_api_fuzz)."""
    organization = f"{API}/organizations/{ids['organization_id']}"
    engagement = f"{API}/engagements/{ids['engagement_id']}"
    yesterday = "2026-01-04"
    quarter = f"{engagement}/quarters/{ids['quarter_id']}"
    okr = f"{engagement}/okrs/{ids['okr_id']}"
    return [
        Write("PATCH", organization, {}, {"name": "text", "mission": "text", "vision_1y": "text",
                                          "vision_5y": "text", "vision_10y": "text", "okr_software": "text",
                                          "strategies": "texts", "challenges": "texts", "timezone": "zone"}),
        Write("POST", f"{organization}/people", {"name": "P"}, {"name": "text", "email": "text"}),
        Write("PATCH", f"{organization}/people/{ids['member_id']}", {}, {"name": "text"}),
        Write("POST", f"{organization}/departments", {"name": "D"}, {"name": "text"}),
        Write("PATCH", f"{organization}/departments/{ids['department_id']}", {}, {"name": "text"}),
        Write("POST", f"{engagement}/meetings",
              {"kind": "weekly_team", "held_at": f"{yesterday}T10:00:00Z", "attendee_ids": [ids["member_id"]],
               "department_id": ids["department_id"]}, {"held_at": "moment", "notes": "text"}),
        Write("POST", f"{engagement}/ceo-support", {"level": "full", "stated_on": yesterday},
              {"stated_on": "date", "note": "text"}),
        Write("POST", f"{engagement}/training-sessions",
              {"held_on": yesterday, "hours": 2, "modules": ["basic_concepts"], "attendee_ids": [ids["member_id"]]},
              {"held_on": "date", "notes": "text"}),
        Write("POST", f"{engagement}/drafting-groups",
              {"member_ids": [ids["member_id"], ids["other_member_id"], ids["ceo_id"]], "started_on": yesterday},
              {"started_on": "date", "ended_on": "date"}),
        Write("PATCH", f"{engagement}/drafting-groups/{ids['group_id']}", {}, {"ended_on": "date"}),
        Write("PATCH", f"{engagement}/appointments/{ids['appointment_id']}", {"trained": True},
              {"trained_on": "date"}),
        Write("POST", f"{engagement}/quarters", {"label": "QX", "starts_on": "2031-01-01", "ends_on": "2031-03-31"},
              {"label": "text", "starts_on": "date", "ends_on": "date"}),
        Write("POST", f"{quarter}/okrs", {"objective": "O", "owner_id": ids["member_id"]}, {"objective": "text"}),
        Write("POST", f"{okr}/key-results", {"metric": "M", "start": 0, "target": 1},
              {"metric": "text", "unit": "text"}),
        Write("POST", f"{quarter}/check-ins", {"key_result_id": ids["key_result_id"], "week_of": "2025-12-29",
                                               "value": 1}, {"week_of": "date", "note": "text"}),
        Write("PATCH", f"{API}/tasks/{ids['task_id']}", {}, {"due_at": "moment"}),
    ]


def bodies(write: Write) -> st.SearchStrategy[list[dict[str, Any]]]:
    """One body per fuzzed field, and one with every field hostile at once."""
    per_field = [KINDS[kind].map(lambda value, field=field: {**write.base, field: value})
                 for field, kind in write.fields.items()]
    together = st.fixed_dictionaries({field: KINDS[kind] for field, kind in write.fields.items()}).map(
        lambda values: {**write.base, **values})
    return st.tuples(*per_field, together).map(list)


def test_no_hostile_value_written_through_the_api_breaks_a_page_document_or_feed(
    app_client: TestClient, tokens: Tokens, db: Callable[[], Any], clock: Clock
) -> None:
    client = TestClient(app_client.app, raise_server_exceptions=False)
    seeded = seed_engagement(client, tokens.admin, tokens.coach_person_id, clock().date(),
                             f"H{uuid.uuid4().hex[:6]}")
    ids = {**seeded.ids, "member_id": seeded.ids["person_id"]}
    members = client.get(f"{API}/organizations/{seeded.organization_id}/people", headers=auth(tokens.admin))
    people = [p["id"] for p in members.json()["items"]]
    ids["member_id"], ids["other_member_id"], ids["ceo_id"] = people[1], people[2], seeded.ids["person_id"]
    add_admin_login(db, clock.now)
    sign_in(client)
    operations = writes(ids)

    @settings(max_examples=6, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(st.tuples(*(bodies(w) for w in operations)))
    def hostile_writes_then_render(all_bodies: tuple[list[dict[str, Any]], ...]) -> None:
        failures: list[str] = []
        for write, payloads in zip(operations, all_bodies, strict=True):
            for body in payloads:
                response = client.request(write.method, write.path, json=body, headers=auth(tokens.admin))
                if response.status_code >= 500:
                    failures.append(f"{write.method} {write.path} {body!r}: {response.status_code}")
        failures += server_errors(client, seeded, tokens.admin, [ids["ceo_id"], ids["member_id"]])
        assert failures == []

    hostile_writes_then_render()
