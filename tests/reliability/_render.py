"""Every page, document and feed of one engagement, fetched as its readers fetch them, with the status of each.

The JSON API's GETs come from the app's own OpenAPI document (every path whose parameters the seed can fill),
the coach pages and documents are fetched signed in as an administrator, and the calendar feeds without a token.
Used to check that whatever values were stored, nothing answers 5xx.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from icalendar import Calendar

from okr_rollout.models import User
from okr_rollout.web.record_forms import FORMS
from tests.conftest import auth
from tests.reliability._seed import API, Seeded
from tests.web._seed import PASSWORD, password_hash

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ADMIN_EMAIL = "render-admin@example.com"


def add_admin_login(db: Callable[[], Any], now: datetime) -> None:
    with db() as session:
        session.add(User(email=ADMIN_EMAIL, password_hash=password_hash(), role="admin", created_at=now))


def sign_in(client: TestClient) -> None:
    form = CSRF.search(client.get("/sign-in").text)
    assert form, "no sign-in form"
    response = client.post("/sign-in", data={"email": ADMIN_EMAIL, "password": PASSWORD,
                                             "csrf_token": form.group(1)}, follow_redirects=False)
    assert response.status_code == 303, response.text


def api_paths(client: TestClient, seeded: Seeded) -> list[str]:
    """Every GET of the API whose path parameters the seed fills."""
    paths: list[str] = []
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        if "get" not in operations or not path.startswith(API):
            continue
        names = re.findall(r"{(\w+)}", path)
        values = seeded.path_parameters(path, names)
        if set(values) == set(names):
            paths.append(path.format(**values))
    return paths


def page_paths(client: TestClient, seeded: Seeded, admin: str) -> list[str]:
    engagement = client.get(f"{API}/engagements/{seeded.engagement_id}", headers=auth(admin)).json()
    pin = engagement["playbook"]
    spec = client.get(f"{API}/playbooks/{pin['id']}/versions/{pin['version']}", headers=auth(admin)).json()
    documents = [d["id"] for phase in spec["phases"] for d in phase.get("documents", [])]
    base = f"/engagements/{seeded.engagement_id}"
    quarter = seeded.ids.get("quarter_id")
    return ["/portfolio", "/readiness", base, f"{base}/records", f"{base}/migration",
            *(f"{base}/records/{slug}" for slug in FORMS),
            *(f"{base}/documents/{d}" for d in documents),
            *(f"{base}/documents/{d}?download=1" for d in documents),
            *((f"{base}/documents/quarter_review?quarter_id={quarter}",) if quarter else ())]


def feed_paths(client: TestClient, seeded: Seeded, admin: str, person_ids: list[int]) -> list[str]:
    """The engagement's calendar and a fresh feed of each person (issued by the administrator)."""
    paths = [f"{API}/engagements/{seeded.engagement_id}/calendar.ics"]
    for person_id in person_ids:
        issued = client.post(f"{API}/organizations/{seeded.organization_id}/people/{person_id}/calendar-token",
                             headers=auth(admin))
        assert issued.status_code == 200, issued.text
        paths.append("/api/v1/calendar/" + issued.json()["url"].rsplit("/", 1)[1])
    return paths


def server_errors(client: TestClient, seeded: Seeded, admin: str, person_ids: list[int]) -> list[str]:
    """Fetch everything; the URLs that answered 5xx (or served a calendar that does not parse), with why."""
    failures: list[str] = []
    for path in api_paths(client, seeded):
        response = client.get(path, headers=auth(admin, **{"Accept-Language": "zh-TW"}))
        if response.status_code >= 500:
            failures.append(f"GET {path}: {response.status_code} {response.text[:200]}")
    for path in page_paths(client, seeded, admin):
        for language in ("en", "zh-TW"):
            response = client.get(path, headers={"Accept-Language": language})
            if response.status_code >= 500:
                failures.append(f"GET {path} ({language}): {response.status_code} {response.text[:200]}")
    for path in feed_paths(client, seeded, admin, person_ids):
        headers = auth(admin) if "/engagements/" in path else {}
        response = client.get(path, headers=headers)
        if response.status_code >= 500:
            failures.append(f"GET {path}: {response.status_code} {response.text[:200]}")
        elif response.status_code == 200:
            problem = calendar_problem(response.content)
            if problem:
                failures.append(f"GET {path}: {problem}")
    return failures


def calendar_problem(body: bytes) -> str | None:
    """What is wrong with a served calendar: a content line broken by a bare CR or LF, or one that does not
    parse back (icalendar, strictly), or a property name a forged line would add; None when it is sound."""
    lines = body.split(b"\r\n")
    if lines[-1] != b"":
        return "does not end with CRLF"
    for line in lines[:-1]:
        if b"\r" in line or b"\n" in line:
            return f"a bare CR or LF in a content line: {line[:80]!r}"
    try:
        calendar = Calendar.from_ical(body)
    except ValueError as error:
        return f"does not parse: {error}"
    names = {line.split(b":", 1)[0].split(b";", 1)[0].upper() for line in lines[:-1] if line[:1] not in (b" ", b"\t")}
    forged = names - KNOWN_PROPERTIES
    if forged:
        return f"unexpected properties {sorted(forged)}"
    if not isinstance(calendar, Calendar):
        return "not a VCALENDAR"
    return None


KNOWN_PROPERTIES = {
    b"BEGIN", b"END", b"PRODID", b"VERSION", b"CALSCALE", b"METHOD", b"X-WR-CALNAME", b"X-WR-TIMEZONE", b"UID",
    b"DTSTAMP", b"DTSTART", b"DTEND", b"SUMMARY", b"DESCRIPTION", b"RRULE", b"TZID", b"TZOFFSETFROM",
    b"TZOFFSETTO", b"TZNAME", b"RDATE", b"COMMENT", b"TZURL", b"X-LIC-LOCATION", b"LAST-MODIFIED",
}
