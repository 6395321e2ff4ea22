"""CSV imports over HTTP (POST /organizations/{id}/imports): people and OKRs, all or nothing, idempotent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.api._helpers import assert_problem, create_engagement, event_types
from tests.api._imports import (
    OKR_HEADER,
    PEOPLE_HEADER,
    PLAN,
    TEAM,
    Org,
    count_events,
    csv_file,
    departments_of,
    imported,
    new_org,
    okrs_of,
    org_with_quarter,
    people_of,
    person_named,
    post_import,
    rejected_rows,
)
from tests.api._records import criterion, place_in_phase
from tests.conftest import Clock, Tokens


def snapshot(client: TestClient, tokens: Tokens, db: Callable[[], Session], org: Org) -> tuple[object, ...]:
    """Everything an import may write, to compare before and after a refused one."""
    return (people_of(client, tokens.admin, org.organization_id),
            sorted(departments_of(client, tokens.admin, org.organization_id)),
            okrs_of(client, tokens.admin, org.engagement_id),
            count_events(db, "import.people", org.organization_id),
            count_events(db, "import.okrs", org.organization_id))


# --- people ------------------------------------------------------------------------------------------------------


def test_people_file_creates_people_departments_and_memberships(
        app_client: TestClient, tokens: Tokens, db: Callable[[], Session]) -> None:
    org = new_org(app_client, tokens)

    result = imported(post_import(app_client, tokens.coach, org.organization_id, "people", TEAM))

    assert (result["kind"], result["rows"], result["created"], result["updated"], result["unchanged"]) == (
        "people", 3, 3, 0, 0)
    assert result["departments_created"] == ["Marketing", "研發部"]  # Sales existed already
    departments = departments_of(app_client, tokens.admin, org.organization_id)
    assert sorted(departments) == ["Marketing", "Sales", "研發部"]
    assert departments["Sales"]["id"] == org.sales_id and departments["Sales"]["is_pilot"] is True
    people = {p["name"]: p for p in people_of(app_client, tokens.admin, org.organization_id)}
    assert result["ids"] == [people["Alice Wu"]["id"], people["Bob Lee"]["id"], people["王小明"]["id"]]
    alice, bob, wang = people["Alice Wu"], people["Bob Lee"], people["王小明"]
    assert alice["email"] == "alice@example.com"
    assert sorted(alice["roles"]) == ["department_lead", "member"]
    assert sorted(alice["department_ids"]) == sorted([org.sales_id, departments["Marketing"]["id"]])
    assert (bob["email"], bob["roles"], bob["department_ids"]) == (None, ["member"], [org.sales_id])
    assert (wang["roles"], wang["department_ids"]) == (["executive"], [departments["研發部"]["id"]])
    assert count_events(db, "import.people", org.organization_id) == 1


@pytest.mark.parametrize("bom", [False, True], ids=["utf8", "utf8-bom"])
def test_chinese_headers_and_names_with_or_without_bom(app_client: TestClient, tokens: Tokens, bom: bool) -> None:
    org = new_org(app_client, tokens)
    content = csv_file(["姓名", "電子郵件", "部門", "角色"],
                       ["陳大文", "chen@example.com", "業務部;行銷部", "ceo;executive"],
                       ["林美玲", "", "業務部", "member"], bom=bom)

    result = imported(post_import(app_client, tokens.coach, org.organization_id, "people", content))

    assert (result["created"], result["departments_created"]) == (2, ["業務部", "行銷部"])
    departments = departments_of(app_client, tokens.admin, org.organization_id)
    chen = person_named(app_client, tokens.admin, org.organization_id, "陳大文")
    assert chen["email"] == "chen@example.com" and sorted(chen["roles"]) == ["ceo", "executive"]
    assert sorted(chen["department_ids"]) == sorted([departments["業務部"]["id"], departments["行銷部"]["id"]])
    lin = person_named(app_client, tokens.admin, org.organization_id, "林美玲")
    assert lin["department_ids"] == [departments["業務部"]["id"]]


def test_every_bad_row_is_listed_and_nothing_is_written(
        app_client: TestClient, tokens: Tokens, db: Callable[[], Session]) -> None:
    org = new_org(app_client, tokens)
    before = snapshot(app_client, tokens, db, org)
    content = csv_file(PEOPLE_HEADER,
                       ["Good Person", "good@example.com", "Brand New Dept", "member"],  # row 2: fine
                       ["Carol", "carol@example.com", "Sales", "boss"],  # row 3: unknown role
                       ["Dan", "dan(at)example.com", "Sales", ""],  # row 4: bad e-mail
                       ["", "nobody@example.com", "Sales", ""],  # row 5: no name
                       ["", "", "", ""],  # row 6: a blank line, skipped but counted
                       ["Good Again", "GOOD@example.com", "", ""])  # row 7: the same person as row 2

    response = post_import(app_client, tokens.coach, org.organization_id, "people", content)

    assert rejected_rows(response) == [(3, "role", "unknown_role"), (4, "email", "email"), (5, "name", "missing"),
                                       (7, "email", "duplicate_row")]
    assert "row 3, column role" in response.json()["detail"]
    assert snapshot(app_client, tokens, db, org) == before  # not even the new department


NUL_MESSAGE = "the cell contains the NUL character (\\u0000), which cannot be imported"


def test_a_nul_character_in_a_cell_is_a_bad_cell_and_nothing_is_written(
        app_client: TestClient, tokens: Tokens, db: Callable[[], Session]) -> None:
    """SQLite stored a NUL character and PostgreSQL refused the whole request with an anonymous 422: now each such
    cell is listed with its row and column among the file's other bad cells, once, on both databases."""
    org = new_org(app_client, tokens)
    before = snapshot(app_client, tokens, db, org)
    content = csv_file(PEOPLE_HEADER,
                       ["Ada Lin", "ada@example.com", "Brand New Dept", "member"],  # row 2: fine
                       ["Bo\0b", "bob@example.com", "Sales", ""],  # row 3: NUL in a name
                       ["Carol", "carol@example.com", "Sa\0les", "boss"],  # row 4: NUL, and an unknown role
                       ["Dan", "dan@example.com", "", "mem\0ber"])  # row 5: NUL, not also "unknown role"

    response = post_import(app_client, tokens.coach, org.organization_id, "people", content)

    assert rejected_rows(response) == [(3, "name", "string_nul"), (4, "department", "string_nul"),
                                       (4, "role", "unknown_role"), (5, "role", "string_nul")]
    errors = response.json()["errors"]
    assert [e["message"] for e in errors if e["type"] == "string_nul"] == [NUL_MESSAGE] * 3
    assert "row 3, column name: " + NUL_MESSAGE in response.json()["detail"]
    assert snapshot(app_client, tokens, db, org) == before  # not even the new department


def test_a_nul_character_in_an_okr_cell_is_listed_with_the_files_other_bad_cells(
        app_client: TestClient, tokens: Tokens, db: Callable[[], Session]) -> None:
    org = org_with_quarter(app_client, tokens)
    before = snapshot(app_client, tokens, db, org)
    content = csv_file(OKR_HEADER,
                       ["2026-Q1", "Sales", "Bob Lee", "Grow\0", "Demos", "0", "12", "", ""],  # 2: NUL objective
                       ["2026-Q1", "Sales", "Nobody", "Grow", "Calls", "0", "12", "", "ca\0lls"],  # 3: owner, NUL
                       ["2026-Q1\0", "Sales", "Bob Lee", "Grow", "Visits", "0", "12", "", ""],  # 4: NUL quarter
                       ["2026-Q1", "Sales", "Bob Lee", "Grow", "Fine", "0", "12", "", ""])  # 5: fine

    response = post_import(app_client, tokens.coach, org.organization_id, "okrs", content)

    assert rejected_rows(response) == [(2, "objective", "string_nul"), (3, "owner", "unknown_person"),
                                       (3, "unit", "string_nul"), (4, "quarter", "string_nul")]
    assert snapshot(app_client, tokens, db, org) == before


@pytest.mark.parametrize(("content", "expected"), [
    (b"name,email,phone\r\nAlice,alice@example.com,123\r\n", [(1, "phone", "unknown_column")]),
    (b"email,role\r\nalice@example.com,member\r\n", [(1, "name", "missing_column")]),
    (b"name,email\r\nAlice,alice@example.com\r\n" + "陳大文,chen@example.com\r\n".encode("big5"),
     [(3, "*", "encoding")]),
    (b"", [(1, "*", "empty")]),
    (b"\xef\xbb\xbf", [(1, "*", "empty")]),
    (b"name,email,department,role\r\n", [(2, "*", "empty")]),
], ids=["unknown-column", "no-name-column", "not-utf8", "empty", "bom-only", "header-only"])
def test_a_file_that_cannot_be_read_is_refused_whole(app_client: TestClient, tokens: Tokens,
                                                     db: Callable[[], Session], content: bytes,
                                                     expected: list[tuple[int, str, str]]) -> None:
    org = new_org(app_client, tokens)
    before = snapshot(app_client, tokens, db, org)

    response = post_import(app_client, tokens.coach, org.organization_id, "people", content)

    assert rejected_rows(response) == expected
    assert snapshot(app_client, tokens, db, org) == before


@pytest.mark.parametrize(("content", "expected"), [
    (b"name,email\r\n\"never closed\r\nnext\r\n", [(2, "name", "unclosed_quote")]),
    (b"name,email\r\nAlice,alice@example.com\r\nBob,\"bob@example.com\r\nCarol,carol@example.com\r\n",
     [(3, "email", "unclosed_quote")]),
    (b"name,email\r\nAlice,\"alice\"@example.com\r\n", [(2, "email", "csv")]),
    (b"name,email,department\r\nAlice,alice@example.com\r\nBob,bob@example.com,Sales,member\r\n",
     [(2, "*", "missing_cells"), (3, "*", "extra_cells")]),
], ids=["unclosed-quote-swallowing-the-rest", "unclosed-quote-mid-file", "text-after-closing-quote",
        "wrong-cell-counts"])
def test_a_file_that_is_not_strict_csv_is_refused_naming_the_row(
        app_client: TestClient, tokens: Tokens, db: Callable[[], Session], content: bytes,
        expected: list[tuple[int, str, str]]) -> None:
    """A lenient reader took an unclosed quote as a cell running to the end of the file (a person named
    "never closed\nnext") and a short row as one with empty cells."""
    org = new_org(app_client, tokens)
    before = snapshot(app_client, tokens, db, org)

    response = post_import(app_client, tokens.coach, org.organization_id, "people", content)

    assert rejected_rows(response) == expected
    for error in response.json()["errors"]:
        assert error["messages"]["en"] == error["message"] and error["messages"]["zh-TW"], error
    assert snapshot(app_client, tokens, db, org) == before


def test_an_unclosed_quote_is_named_in_english_and_chinese(app_client: TestClient, tokens: Tokens) -> None:
    org = new_org(app_client, tokens)

    response = post_import(app_client, tokens.coach, org.organization_id, "people",
                           b"name,email\r\n\"never closed\r\nnext\r\n")

    [error] = assert_problem(response, 422, slug="validation-error")["errors"]
    assert error["messages"] == {"en": "a quote opened in this cell is never closed", "zh-TW": "此格的引號沒有結束"}
    assert "row 2, column name: a quote opened in this cell is never closed" in response.json()["detail"]


def test_importing_the_same_file_again_changes_nothing(
        app_client: TestClient, tokens: Tokens, db: Callable[[], Session]) -> None:
    org = new_org(app_client, tokens)
    first = imported(post_import(app_client, tokens.coach, org.organization_id, "people", TEAM))
    people = people_of(app_client, tokens.admin, org.organization_id)
    departments = departments_of(app_client, tokens.admin, org.organization_id)

    again = imported(post_import(app_client, tokens.coach, org.organization_id, "people", TEAM))

    assert (again["rows"], again["created"], again["updated"], again["unchanged"]) == (3, 0, 0, 3)
    assert again["departments_created"] == [] and again["ids"] == first["ids"]
    assert people_of(app_client, tokens.admin, org.organization_id) == people  # versions unchanged too
    assert departments_of(app_client, tokens.admin, org.organization_id) == departments
    assert count_events(db, "import.people", org.organization_id) == 1


def test_a_second_file_adding_departments_and_roles_updates_people(
        app_client: TestClient, tokens: Tokens, db: Callable[[], Session]) -> None:
    org = new_org(app_client, tokens)
    imported(post_import(app_client, tokens.coach, org.organization_id, "people", TEAM))
    second = csv_file(PEOPLE_HEADER,
                      ["Alice Wu", "ALICE@example.com", "Sales", "okr_master"],  # same e-mail: a new role
                      ["Bob Lee", "", "Support", ""],  # same name, no e-mail: a new department
                      ["王小明", "wang@example.com", "研發部", "executive"],  # as before
                      ["Eve Hsu", "eve@example.com", "Support", "internal_coach"])  # new

    result = imported(post_import(app_client, tokens.coach, org.organization_id, "people", second))

    assert (result["rows"], result["created"], result["updated"], result["unchanged"]) == (4, 1, 2, 1)
    assert result["departments_created"] == ["Support"]
    departments = departments_of(app_client, tokens.admin, org.organization_id)
    alice = person_named(app_client, tokens.admin, org.organization_id, "Alice Wu")
    assert sorted(alice["roles"]) == ["department_lead", "member", "okr_master"]
    assert sorted(alice["department_ids"]) == sorted([org.sales_id, departments["Marketing"]["id"]])
    bob = person_named(app_client, tokens.admin, org.organization_id, "Bob Lee")
    assert sorted(bob["department_ids"]) == sorted([org.sales_id, departments["Support"]["id"]])
    assert len(people_of(app_client, tokens.admin, org.organization_id)) == 4
    assert count_events(db, "import.people", org.organization_id) == 2


# --- OKRs --------------------------------------------------------------------------------------------------------


def test_okr_file_creates_one_okr_per_quarter_objective_owner_and_department(
        app_client: TestClient, tokens: Tokens, db: Callable[[], Session]) -> None:
    org = org_with_quarter(app_client, tokens)
    people = {p["email"]: p["id"] for p in people_of(app_client, tokens.admin, org.organization_id)}

    result = imported(post_import(app_client, tokens.coach, org.organization_id, "okrs", PLAN))

    assert (result["kind"], result["rows"], result["created"], result["updated"], result["unchanged"]) == (
        "okrs", 4, 3, 0, 0)
    okrs = okrs_of(app_client, tokens.coach, org.engagement_id)
    assert [o["id"] for o in okrs] == result["ids"]
    shape = [(o["objective"], o["owner_id"], o["department_id"],
              [(k["metric"], k["start"], k["target"], k["current"], k["unit"]) for k in o["key_results"]])
             for o in okrs]
    assert shape == [
        ("Grow revenue", people["alice@example.com"], org.sales_id,
         [("New customers", 0, 20, 5, "customers"), ("Revenue", 1000, 5000, 1000, "kNTD")]),
        ("Grow revenue", people["bob@example.com"], org.sales_id, [("Demos given", 0, 12, 0, "demos")]),
        ("Become an OKR company", people["bob@example.com"], None, []),
    ]
    assert event_types(app_client, tokens.admin, org.engagement_id).count("import.okrs") == 1


def test_every_bad_okr_row_is_listed_and_nothing_is_written(
        app_client: TestClient, tokens: Tokens, db: Callable[[], Session]) -> None:
    org = org_with_quarter(app_client, tokens)
    before = snapshot(app_client, tokens, db, org)
    content = csv_file(OKR_HEADER,
                       ["2026-Q1", "Sales", "alice@example.com", "Grow", "Fine", "0", "10", "", ""],  # row 2: fine
                       ["2026-Q9", "Sales", "Alice Wu", "Grow", "A", "0", "10", "", ""],  # 3: unknown quarter
                       ["2026-Q1", "Sales", "Nobody", "Grow", "B", "0", "10", "", ""],  # 4: unknown owner
                       ["2026-Q1", "Finance", "Chen", "Save", "C", "0", "10", "", ""],  # 5: two people named Chen
                       ["2026-Q1", "Legal", "Bob Lee", "Grow", "D", "0", "10", "", ""],  # 6: unknown department
                       ["2026-Q1", "Sales", "Bob Lee", "Grow", "E", "ten", "10%", "", ""],  # 7: not numbers
                       ["2026-Q1", "Sales", "alice@example.com", "Grow", "Fine", "0", "10", "", ""])  # 8: row 2 again

    response = post_import(app_client, tokens.coach, org.organization_id, "okrs", content)

    assert rejected_rows(response) == [
        (3, "quarter", "unknown_quarter"), (4, "owner", "unknown_person"), (5, "owner", "ambiguous_person"),
        (6, "department", "unknown_department"), (7, "start", "not_a_number"), (7, "target", "not_a_number"),
        (8, "key_result", "duplicate_row")]
    assert snapshot(app_client, tokens, db, org) == before


def test_a_key_result_name_longer_than_the_api_allows_is_refused(
        app_client: TestClient, tokens: Tokens, db: Callable[[], Session]) -> None:
    org = org_with_quarter(app_client, tokens)
    before = snapshot(app_client, tokens, db, org)
    content = csv_file(OKR_HEADER, ["2026-Q1", "Sales", "Bob Lee", "Grow", "x" * 2001, "0", "10", "", ""])

    response = post_import(app_client, tokens.coach, org.organization_id, "okrs", content)

    assert rejected_rows(response) == [(2, "key_result", "too_long")]  # POST .../key-results refuses it too
    assert snapshot(app_client, tokens, db, org) == before


def test_rows_are_numbered_as_a_spreadsheet_shows_them_even_after_a_multi_line_cell(
        app_client: TestClient, tokens: Tokens) -> None:
    org = org_with_quarter(app_client, tokens)
    content = csv_file(OKR_HEADER,
                       ["2026-Q1", "Sales", "Bob Lee", "Grow revenue\nin the north", "Demos", "0", "10", "", ""],
                       ["2026-Q1", "Sales", "Nobody", "Grow", "Calls", "0", "10", "", ""])  # spreadsheet row 3

    response = post_import(app_client, tokens.coach, org.organization_id, "okrs", content)

    assert rejected_rows(response) == [(3, "owner", "unknown_person")]


def test_importing_the_same_okr_file_again_changes_nothing(
        app_client: TestClient, tokens: Tokens, db: Callable[[], Session]) -> None:
    org = org_with_quarter(app_client, tokens)
    first = imported(post_import(app_client, tokens.coach, org.organization_id, "okrs", PLAN))
    okrs = okrs_of(app_client, tokens.coach, org.engagement_id)

    again = imported(post_import(app_client, tokens.coach, org.organization_id, "okrs", PLAN))

    assert (again["rows"], again["created"], again["updated"], again["unchanged"]) == (4, 0, 0, 3)
    assert again["ids"] == first["ids"]
    assert okrs_of(app_client, tokens.coach, org.engagement_id) == okrs
    assert count_events(db, "import.okrs", org.organization_id) == 1


def test_okrs_need_the_engagement_named_when_the_organization_has_two(
        app_client: TestClient, tokens: Tokens, db: Callable[[], Session]) -> None:
    org = org_with_quarter(app_client, tokens)
    second = create_engagement(app_client, tokens.admin, org.organization_id, coach_ids=[tokens.coach_person_id])
    stranger = new_org(app_client, tokens)

    missing = assert_problem(post_import(app_client, tokens.coach, org.organization_id, "okrs", PLAN), 422,
                             slug="validation-error")
    assert [(e["field"], e["type"]) for e in missing["errors"]] == [("query.engagement_id", "missing")]
    foreign = assert_problem(post_import(app_client, tokens.coach, org.organization_id, "okrs", PLAN,
                                         engagement_id=stranger.engagement_id), 422, slug="validation-error")
    assert [e["field"] for e in foreign["errors"]] == ["query.engagement_id"]
    assert okrs_of(app_client, tokens.coach, org.engagement_id) == []

    result = imported(post_import(app_client, tokens.coach, org.organization_id, "okrs", PLAN,
                                  engagement_id=org.engagement_id))

    assert result["created"] == 3
    assert len(okrs_of(app_client, tokens.coach, org.engagement_id)) == 3
    assert okrs_of(app_client, tokens.coach, second["id"]) == []


def test_a_json_body_is_415_and_an_unknown_kind_is_422(
        app_client: TestClient, tokens: Tokens, db: Callable[[], Session]) -> None:
    org = new_org(app_client, tokens)
    before = snapshot(app_client, tokens, db, org)

    for kind in ("people", "okrs"):
        response = post_import(app_client, tokens.coach, org.organization_id, kind, b'{"name": "Alice"}',
                               content_type="application/json")
        assert_problem(response, 415)
    unknown = assert_problem(post_import(app_client, tokens.coach, org.organization_id, "teams", TEAM), 422)
    assert [e["field"] for e in unknown["errors"]] == ["query.kind"]
    assert snapshot(app_client, tokens, db, org) == before


def test_a_coach_of_another_organization_gets_404_and_nothing_is_written(
        app_client: TestClient, tokens: Tokens, db: Callable[[], Session]) -> None:
    org = org_with_quarter(app_client, tokens)
    before = snapshot(app_client, tokens, db, org)

    for kind, content in (("people", TEAM), ("okrs", PLAN)):
        assert_problem(post_import(app_client, tokens.other_coach, org.organization_id, kind, content), 404)
        assert_problem(post_import(app_client, tokens.other_coach, org.organization_id, kind, content,
                                   engagement_id=org.engagement_id), 404)
    assert snapshot(app_client, tokens, db, org) == before


def test_imported_okrs_feed_the_planning_gates(
        app_client: TestClient, tokens: Tokens, db: Callable[[], Session], clock: Clock) -> None:
    org = org_with_quarter(app_client, tokens)
    people = {p["email"]: p["id"] for p in people_of(app_client, tokens.admin, org.organization_id)}
    place_in_phase(db, org.engagement_id, "pilot_drafting", clock.now - timedelta(days=21))
    planned = criterion(app_client, tokens.coach, org.engagement_id, "appoint_internal_coaches", "q1_planned")
    assert planned["passed"] is False
    assert planned["evidence"]["departments_without_okrs"] == [org.sales_id]

    imported(post_import(app_client, tokens.coach, org.organization_id, "okrs", csv_file(
        OKR_HEADER, ["2026-Q1", "Sales", "Alice Wu", "Grow revenue", "Revenue", "0", "10", "", ""])))

    planned = criterion(app_client, tokens.coach, org.engagement_id, "appoint_internal_coaches", "q1_planned")
    assert planned["passed"] is True
    assert (planned["evidence"]["okrs"], planned["evidence"]["departments_without_okrs"]) == (1, [])
    place_in_phase(db, org.engagement_id, "coaches_appointed", clock.now)
    owners = criterion(app_client, tokens.coach, org.engagement_id, "start_q1", "q1_members_own_okrs")
    assert owners["passed"] is False
    assert owners["evidence"]["people_without_okr"] == [people["bob@example.com"]]

    imported(post_import(app_client, tokens.coach, org.organization_id, "okrs", csv_file(
        OKR_HEADER, ["2026-Q1", "Sales", "bob@example.com", "Grow revenue", "Demos", "0", "12", "", ""])))

    owners = criterion(app_client, tokens.coach, org.engagement_id, "start_q1", "q1_members_own_okrs")
    assert owners["passed"] is True and owners["evidence"]["people_without_okr"] == []
