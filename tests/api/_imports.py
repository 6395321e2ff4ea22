"""Helpers of the CSV import tests: build files, post them, read back people, departments, OKRs and events."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from okr_rollout.models import Event
from tests.api._cycle import Q1_END, Q1_START
from tests.api._helpers import assert_problem, collect_pages, create_engagement, create_organization
from tests.api._records import add_department
from tests.conftest import Tokens, auth

ORGS = "/api/v1/organizations"
PEOPLE_HEADER = ["name", "email", "department", "role"]
OKR_HEADER = ["quarter", "department", "owner", "objective", "key_result", "start", "target", "current", "unit"]


def csv_file(header: Sequence[str], *rows: Sequence[str], bom: bool = False) -> bytes:
    """A CSV file as a spreadsheet saves it (CRLF line ends, quoting where needed), UTF-8."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8")


def post_import(client: TestClient, token: str, organization_id: int, kind: str, content: bytes, *,
                engagement_id: int | None = None, content_type: str = "text/csv") -> Response:
    params: dict[str, str | int] = {"kind": kind}
    if engagement_id is not None:
        params["engagement_id"] = engagement_id
    return client.post(f"{ORGS}/{organization_id}/imports", params=params, content=content,
                       headers=auth(token, **{"Content-Type": content_type}))


def imported(response: Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def rejected_rows(response: Response) -> list[tuple[int, str, str]]:
    """The (row, column, type) of every error of a 422 import refusal, in the order given; each error also names
    its field and has a message."""
    problem = assert_problem(response, 422, slug="validation-error")
    errors = problem["errors"]
    assert errors, problem
    for error in errors:
        assert error["message"], error
        assert error["field"] == f"rows[{error['row']}].{error['column']}", error
    return [(e["row"], e["column"], e["type"]) for e in errors]


def people_of(client: TestClient, token: str, organization_id: int) -> list[dict[str, Any]]:
    return collect_pages(client, token, f"{ORGS}/{organization_id}/people")


def person_named(client: TestClient, token: str, organization_id: int, name: str) -> dict[str, Any]:
    (found,) = [p for p in people_of(client, token, organization_id) if p["name"] == name]
    return found


def departments_of(client: TestClient, token: str, organization_id: int) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in collect_pages(client, token, f"{ORGS}/{organization_id}/departments")}


def okrs_of(client: TestClient, token: str, engagement_id: int) -> list[dict[str, Any]]:
    return collect_pages(client, token, f"/api/v1/engagements/{engagement_id}/okrs")


def count_events(db: Callable[[], Session], type: str, organization_id: int) -> int:
    """Events of one type for one organization, engagement-level or not (people imports have no engagement)."""
    with db() as session:
        return session.scalar(select(func.count()).select_from(Event).where(
            Event.type == type, Event.organization_id == organization_id)) or 0


# --- a client organization ---------------------------------------------------------------------------------------


TEAM = csv_file(PEOPLE_HEADER,
                ["Alice Wu", "alice@example.com", "Sales;Marketing", "department_lead;member"],
                ["Bob Lee", "", "Sales", ""],
                ["王小明", "wang@example.com", "研發部", "executive"])


@dataclass(frozen=True)
class Org:
    organization_id: int
    engagement_id: int
    sales_id: int  # a pilot department created over the API before any import


def new_org(client: TestClient, tokens: Tokens) -> Org:
    organization = create_organization(client, tokens.admin)
    engagement = create_engagement(client, tokens.admin, organization["id"], coach_ids=[tokens.coach_person_id])
    sales = add_department(client, tokens.admin, organization["id"], name="Sales", is_pilot=True)
    return Org(organization["id"], engagement["id"], sales)


def org_with_quarter(client: TestClient, tokens: Tokens) -> Org:
    """Alice and Bob in the pilot department Sales, two people named Chen, and quarter 2026-Q1."""
    org = new_org(client, tokens)
    imported(post_import(client, tokens.coach, org.organization_id, "people", csv_file(
        PEOPLE_HEADER, ["Alice Wu", "alice@example.com", "Sales", ""], ["Bob Lee", "bob@example.com", "Sales", ""],
        ["Chen", "chen1@example.com", "Finance", ""], ["Chen", "chen2@example.com", "Finance", ""])))
    response = client.post(f"/api/v1/engagements/{org.engagement_id}/quarters", headers=auth(tokens.coach),
                           json={"label": "2026-Q1", "starts_on": Q1_START.isoformat(),
                                 "ends_on": Q1_END.isoformat()})
    assert response.status_code == 201, response.text
    return org


PLAN = csv_file(OKR_HEADER,
                ["2026-Q1", "Sales", "alice@example.com", "Grow revenue", "New customers", "0", "20", "5", "customers"],
                ["2026-Q1", "Sales", "alice@example.com", "Grow revenue", "Revenue", "1,000", "5,000", "", "kNTD"],
                ["2026-Q1", "Sales", "Bob Lee", "Grow revenue", "Demos given", "0", "12", "", "demos"],
                ["2026-Q1", "", "Bob Lee", "Become an OKR company", "", "", "", "", ""])
