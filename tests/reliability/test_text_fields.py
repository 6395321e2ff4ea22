"""SQL and HTML in every free-text field of the API: stored as text and returned exactly as given.

"Every" is checked against the OpenAPI document: each string field of a request body that takes free text (no
enum, format or pattern) must be written below or listed in ``NOT_FREE_TEXT`` with its reason, so a new text
field cannot go untested. The engagement's calendar (a document) is read back through an iCalendar parser: the
text survives its escaping. (The coach pages are not served by the app yet: their escaping is not tested here.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from icalendar import Calendar

from tests.conftest import Clock, Tokens, auth
from tests.reliability._seed import API, Seeded, seed_engagement

NASTY = ("Robert'); DROP TABLE organizations; -- <script>alert('x')</script><img src=x onerror=alert(1)> "
         "&amp; \"q\" 1' OR '1'='1 %_\\ {{7*7}} ${7*7} 中文 🎯")
SHORT = "';DROP TABLE x;--<b>&amp;</b>"  # for fields of at most 32 characters

# Request fields that are strings but not free text, and why.
NOT_FREE_TEXT = {
    ("POST /api/v1/organizations", "timezone"): "an IANA zone name, checked against the zone database",
    ("PATCH /api/v1/organizations/{organization_id}", "timezone"): "an IANA zone name",
    ("PUT /api/v1/engagements/{engagement_id}/okrs/{okr_id}/decision", "decision"): "one of the playbook's words",
    ("POST /api/v1/webhook-subscriptions", "url"): "an http(s) URL, checked as one",
    ("POST /api/v1/organizations/{organization_id}/imports", ""): "a CSV file: its cells are written below",
    ("PATCH /api/v1/engagements/{engagement_id}/okrs/{okr_id}/decision", "decision"): "one of the playbook's words",
    # These need a quarter that has ended (a score) or is closed (every OKR decided), which the seeded one is not;
    # their reason is the same type as every void's written below, and test_cycle_corrections writes them.
    ("POST /api/v1/engagements/{engagement_id}/okrs/{okr_id}/score/void", "reason"): "a void's reason (see above)",
    # A wave opens only in the expansion phase; test_waves_panel writes a hostile name and reads it back.
    ("POST /api/v1/engagements/{engagement_id}/waves", "name"): "written in test_waves_panel",
    ("POST /api/v1/engagements/{engagement_id}/okrs/{okr_id}/decision/void", "reason"): "a void's reason",
    ("POST /api/v1/engagements/{engagement_id}/quarters/{quarter_id}/reopen", "reason"): "a void's reason",
}


@dataclass(frozen=True)
class Write:
    method: str
    path: str  # template, as in the OpenAPI document
    body: Callable[[Seeded], dict[str, Any]]
    read: Callable[[Seeded, dict[str, Any]], str]  # where the written thing is read back
    fields: tuple[str, ...]  # the free-text fields written (dotted, [] for list items), as the walk names them
    read_as: str = ""  # where the fields sit in what is read back, when not at its top


def _org_text(name: str) -> dict[str, Any]:
    return {"name": name, "mission": NASTY, "vision_1y": NASTY, "vision_5y": NASTY, "vision_10y": NASTY,
            "strategies": [NASTY, NASTY], "challenges": [NASTY], "okr_software": NASTY, "crm_id": name}


ORG_FIELDS = ("name", "crm_id", "mission", "vision_1y", "vision_5y", "vision_10y", "strategies[]", "challenges[]",
              "okr_software")
E = "/api/v1/engagements/{engagement_id}"
WRITES = [
    Write("POST", "/api/v1/organizations", lambda s: {**_org_text(NASTY), "headcount": 9},
          lambda s, out: f"{API}/organizations/{out['id']}", ORG_FIELDS),
    Write("PATCH", "/api/v1/organizations/{organization_id}", lambda s: _org_text(NASTY + " 2"),
          lambda s, out: f"{API}/organizations/{out['id']}", ORG_FIELDS),
    Write("POST", "/api/v1/organizations/{organization_id}/people", lambda s: {"name": NASTY},
          lambda s, out: f"{API}/organizations/{s.organization_id}/people?limit=500", ("name",)),
    Write("PATCH", "/api/v1/organizations/{organization_id}/people/{person_id}", lambda s: {"name": NASTY + " 3"},
          lambda s, out: f"{API}/organizations/{s.organization_id}/people?limit=500", ("name",)),
    Write("POST", "/api/v1/organizations/{organization_id}/departments", lambda s: {"name": NASTY},
          lambda s, out: f"{API}/organizations/{s.organization_id}/departments?limit=500", ("name",)),
    Write("PATCH", "/api/v1/organizations/{organization_id}/departments/{department_id}",
          lambda s: {"name": NASTY + " 4"},
          lambda s, out: f"{API}/organizations/{s.organization_id}/departments?limit=500", ("name",)),
    Write("POST", E + "/meetings", lambda s: {"kind": "culture", "held_at": "2026-01-02T10:00:00+08:00",
                                              "notes": NASTY},
          lambda s, out: f"{API}/engagements/{s.engagement_id}/meetings/{out['id']}", ("notes",)),
    Write("POST", E + "/ceo-support", lambda s: {"level": "partial", "stated_on": "2026-01-02", "note": NASTY},
          lambda s, out: f"{API}/engagements/{s.engagement_id}/ceo-support/{out['id']}", ("note",)),
    Write("POST", E + "/training-sessions", lambda s: {"held_on": "2026-01-02", "hours": 2,
                                                       "modules": ["basic_concepts"], "notes": NASTY},
          lambda s, out: f"{API}/engagements/{s.engagement_id}/training-sessions/{out['id']}", ("notes",)),
    Write("POST", E + "/quarters", lambda s: {"label": SHORT, "starts_on": "2026-04-06", "ends_on": "2026-06-28"},
          lambda s, out: f"{API}/engagements/{s.engagement_id}/quarters/{out['id']}", ("label",)),
    Write("POST", E + "/quarters/{quarter_id}/okrs",
          lambda s: {"objective": NASTY, "department_id": s.ids["department_id"],
                     "key_results": [{"metric": NASTY, "start": 0, "target": 1, "unit": SHORT}]},
          lambda s, out: f"{API}/engagements/{s.engagement_id}/okrs/{out['id']}",
          ("objective", "key_results[].metric", "key_results[].unit")),
    Write("POST", E + "/okrs/{okr_id}/key-results", lambda s: {"metric": NASTY, "start": 0, "target": 1,
                                                               "unit": SHORT},
          lambda s, out: f"{API}/engagements/{s.engagement_id}/okrs/{s.ids['okr_id']}", ("metric", "unit"),
          read_as="key_results[]."),
    Write("POST", E + "/quarters/{quarter_id}/check-ins",
          lambda s: {"key_result_id": s.ids["key_result_id"], "week_of": "2025-12-29", "value": 3, "note": NASTY},
          lambda s, out: f"{API}/engagements/{s.engagement_id}/key-results/{s.ids['key_result_id']}/check-ins",
          ("note",)),
    # Corrections (PATCH) and voids (POST …/void, read back from the history); the voids come last, the quarter's
    # last of all, as voiding it voids its OKRs.
    Write("PATCH", E + "/meetings/{record_id}", lambda s: {"notes": NASTY + " corrected"},
          lambda s, out: f"{API}/engagements/{s.engagement_id}/meetings/{out['id']}", ("notes",)),
    Write("PATCH", E + "/ceo-support/{record_id}", lambda s: {"note": NASTY + " corrected"},
          lambda s, out: f"{API}/engagements/{s.engagement_id}/ceo-support/{out['id']}", ("note",)),
    Write("PATCH", E + "/training-sessions/{record_id}", lambda s: {"notes": NASTY + " corrected"},
          lambda s, out: f"{API}/engagements/{s.engagement_id}/training-sessions/{out['id']}", ("notes",)),
    Write("PATCH", E + "/quarters/{quarter_id}", lambda s: {"label": SHORT + "+"},
          lambda s, out: f"{API}/engagements/{s.engagement_id}/quarters/{out['id']}", ("label",)),
    Write("PATCH", E + "/okrs/{okr_id}", lambda s: {"objective": NASTY + " corrected"},
          lambda s, out: f"{API}/engagements/{s.engagement_id}/okrs/{out['id']}", ("objective",)),
    Write("PATCH", E + "/key-results/{key_result_id}", lambda s: {"metric": NASTY + " corrected", "unit": SHORT},
          lambda s, out: f"{API}/engagements/{s.engagement_id}/key-results/{out['id']}", ("metric", "unit")),
    Write("PATCH", E + "/check-ins/{check_in_id}", lambda s: {"note": NASTY + " corrected"},
          lambda s, out: f"{API}/engagements/{s.engagement_id}/check-ins/{out['id']}", ("note",)),
    *[Write("POST", E + path + "/void", lambda s: {"reason": NASTY},
            lambda s, out: f"{API}/engagements/{s.engagement_id}/events?limit=500", ("reason",), read_as="payload.")
      for path in ("/meetings/{record_id}", "/ceo-support/{record_id}", "/training-sessions/{record_id}",
                   "/drafting-groups/{group_id}", "/appointments/{appointment_id}", "/check-ins/{check_in_id}",
                   "/key-results/{key_result_id}", "/okrs/{okr_id}", "/quarters/{quarter_id}")],
    Write("POST", "/api/v1/coaches", lambda s: {"name": NASTY},
          lambda s, out: f"{API}/coaches/{out['id']}", ("name",)),
    Write("POST", "/api/v1/tokens", lambda s: {"role": "integration", "name": NASTY},
          lambda s, out: f"{API}/tokens/{out['id']}", ("name",)),
    Write("POST", "/api/v1/webhook-subscriptions",
          lambda s: {"url": "https://93.184.216.34/hook", "event_types": ["engagement.created"],
                     "description": NASTY},
          lambda s, out: f"{API}/webhook-subscriptions/{out['id']}", ("description",)),
]


def free_text_fields(spec: dict[str, Any]) -> set[tuple[str, str]]:
    """(operation, field) of every free-text string in a request body of the OpenAPI document."""
    schemas = spec["components"]["schemas"]

    def walk(schema: dict[str, Any], prefix: str) -> list[str]:
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
        if "anyOf" in schema:
            return [f for option in schema["anyOf"] for f in walk(option, prefix)]
        if schema.get("type") == "object":
            return [f for name, sub in schema.get("properties", {}).items()
                    for f in walk(sub, f"{prefix}.{name}" if prefix else name)]
        if schema.get("type") == "array":
            return walk(schema.get("items", {}), prefix + "[]")
        if schema.get("type") == "string" and not {"enum", "format", "pattern", "const"} & set(schema):
            return [prefix]
        return []

    return {(f"{method.upper()} {path}", field)
            for path, operations in spec["paths"].items() for method, operation in operations.items()
            for content in operation.get("requestBody", {}).get("content", {}).values()
            for field in walk(content["schema"], "")}


def values_at(document: Any, field: str) -> list[Any]:
    """The values of a dotted field (``key_results[].metric``) in a JSON document."""
    found = [document]
    for part in field.split("."):
        many = part.endswith("[]")
        found = [item.get(part.removesuffix("[]")) for item in found]
        if many:
            found = [value for values in found for value in (values or [])]
    return found


def test_every_free_text_field_is_written_below(app_client: TestClient) -> None:
    written = {(f"{w.method} {w.path}", f) for w in WRITES for f in w.fields}
    missing = free_text_fields(app_client.get("/openapi.json").json()) - written - set(NOT_FREE_TEXT)
    assert missing == set(), f"free-text fields with no SQL/HTML test: {sorted(missing)}"


def test_sql_and_html_are_stored_as_text_and_returned_as_given(app_client: TestClient, tokens: Tokens,
                                                               clock: Clock) -> None:
    seeded = seed_engagement(app_client, tokens.admin, tokens.coach_person_id, clock().date(), "Text")
    spec_paths = app_client.get("/openapi.json").json()["paths"]
    for write in WRITES:
        if write.method.lower() not in spec_paths.get(write.path, {}):
            continue  # an optional router that this app does not serve
        path = write.path.format(**{**seeded.ids, "engagement_id": seeded.engagement_id,
                                    "organization_id": seeded.organization_id,
                                    **seeded.path_parameters(write.path, ["record_id"])})
        response = app_client.request(write.method, path, json=write.body(seeded), headers=auth(tokens.admin))
        assert response.status_code in (200, 201), f"{write.method} {path}: {response.text}"
        sent = write.body(seeded)
        read = app_client.get(write.read(seeded, response.json()), headers=auth(tokens.admin)).json()
        # A list, a page of items, or one resource.
        documents = read if isinstance(read, list) else read["items"] if isinstance(read.get("items"), list) else [read]
        for field in write.fields:
            expected = [v for v in values_at(sent, field) if v is not None]
            stored = [v for document in documents for v in values_at(document, write.read_as + field)]
            for value in expected:
                assert value in stored, f"{write.method} {write.path} {field}: {value!r} not in {stored!r}"
    # The statements in the text never ran: the tables are there, with every row.
    organizations = app_client.get(f"{API}/organizations?limit=500", headers=auth(tokens.admin)).json()["items"]
    assert NASTY in [o["name"] for o in organizations]


def test_a_csv_of_sql_and_html_is_imported_as_text(app_client: TestClient, tokens: Tokens, clock: Clock) -> None:
    seeded = seed_engagement(app_client, tokens.admin, tokens.coach_person_id, clock().date(), "Csv")
    department = NASTY.replace(";", ",")  # the cell is a list of department names separated by ';'
    name_cell, department_cell = NASTY.replace('"', '""'), department.replace('"', '""')
    content = f'name,email,department\n"{name_cell}",a@example.com,"{department_cell}"\n'.encode()
    response = app_client.post(f"{API}/organizations/{seeded.organization_id}/imports?kind=people", content=content,
                               headers=auth(tokens.admin, **{"Content-Type": "text/csv"}))
    assert response.status_code == 200, response.text
    people = app_client.get(f"{API}/organizations/{seeded.organization_id}/people?limit=500",
                            headers=auth(tokens.admin)).json()["items"]
    departments = app_client.get(f"{API}/organizations/{seeded.organization_id}/departments?limit=500",
                                 headers=auth(tokens.admin)).json()["items"]
    assert NASTY in [p["name"] for p in people]
    assert department in [d["name"] for d in departments]


def test_text_in_the_calendar_document_survives_its_escaping(app_client: TestClient, tokens: Tokens,
                                                              clock: Clock) -> None:
    seeded = seed_engagement(app_client, tokens.admin, tokens.coach_person_id, clock().date(), "Ics")
    renamed = app_client.patch(f"{API}/organizations/{seeded.organization_id}", json={"name": NASTY},
                               headers=auth(tokens.admin))
    assert renamed.status_code == 200, renamed.text
    feed = app_client.get(f"{API}/engagements/{seeded.engagement_id}/calendar.ics", headers=auth(tokens.admin))
    assert feed.status_code == 200, feed.text
    calendar = Calendar.from_ical(feed.content)
    descriptions = [str(component.get("description", "")) for component in calendar.walk("VEVENT")]
    assert descriptions and all(NASTY in description for description in descriptions), descriptions[:2]
