"""`okr-rollout import ...` as a user runs it: a real process on a migrated database (OKR_ROLLOUT_DATABASE_URL),
counts on stdout, every bad row on stderr, exit codes; what it wrote is read back over the API."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.api._helpers import create_engagement
from tests.api._imports import (
    OKR_HEADER,
    PEOPLE_HEADER,
    PLAN,
    TEAM,
    count_events,
    csv_file,
    departments_of,
    new_org,
    okrs_of,
    org_with_quarter,
    people_of,
)
from tests.conftest import Tokens

ROOT = Path(__file__).resolve().parents[2]
ROW_LINE = re.compile(r"^\s*(?P<file>.+): row (?P<row>\d+), column (?P<column>[^:]+): (?P<message>.+)$")


def run(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OKR_ROLLOUT_DATABASE_URL": database_url, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "okr_rollout.cli", *args], capture_output=True, text=True,
                          encoding="utf-8", cwd=ROOT, env=env, check=False)


def write(tmp_path: Path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def row_lines(stderr: str) -> list[tuple[str, int, str, str]]:
    """(file, row, column, message) of every "row N, column C: message" line."""
    found = [ROW_LINE.match(line) for line in stderr.splitlines()]
    return [(m["file"], int(m["row"]), m["column"], m["message"]) for m in found if m]


def test_import_people_prints_the_counts_and_a_second_run_changes_nothing(
        app_client: TestClient, tokens: Tokens, database_url: str, db: Callable[[], Session],
        tmp_path: Path) -> None:
    org = new_org(app_client, tokens)
    file = write(tmp_path, "team.csv", TEAM)

    first = run(database_url, "import", "people", file, "--organization", str(org.organization_id))

    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (f"{file}: 3 rows; 3 created, 0 updated, 0 unchanged; "
                                    "new departments: Marketing, 研發部")
    people = people_of(app_client, tokens.admin, org.organization_id)
    assert sorted(p["name"] for p in people) == ["Alice Wu", "Bob Lee", "王小明"]
    assert sorted(departments_of(app_client, tokens.admin, org.organization_id)) == ["Marketing", "Sales", "研發部"]

    again = run(database_url, "import", "people", file, "--organization", str(org.organization_id))

    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == f"{file}: 3 rows; 0 created, 0 updated, 3 unchanged"
    assert people_of(app_client, tokens.admin, org.organization_id) == people
    assert count_events(db, "import.people", org.organization_id) == 1


def test_a_bad_file_exits_one_with_a_line_per_bad_row_and_writes_nothing(
        app_client: TestClient, tokens: Tokens, database_url: str, db: Callable[[], Session],
        tmp_path: Path) -> None:
    org = new_org(app_client, tokens)
    file = write(tmp_path, "bad.csv", csv_file(PEOPLE_HEADER,
                                               ["Good Person", "good@example.com", "New Dept", "member"],
                                               ["Carol", "carol@example.com", "Sales", "boss"],
                                               ["Dan", "dan(at)example.com", "Sales", ""],
                                               ["", "nobody@example.com", "", ""]))

    result = run(database_url, "import", "people", file, "--organization", str(org.organization_id))

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = row_lines(result.stderr)
    assert [(f, row, column) for f, row, column, _ in lines] == [(file, 3, "role"), (file, 4, "email"),
                                                                 (file, 5, "name")]
    assert "unknown role 'boss'" in lines[0][3]
    assert "not imported" in result.stderr
    assert people_of(app_client, tokens.admin, org.organization_id) == []
    assert sorted(departments_of(app_client, tokens.admin, org.organization_id)) == ["Sales"]
    assert count_events(db, "import.people", org.organization_id) == 0


def test_a_file_that_is_not_utf8_names_its_row(app_client: TestClient, tokens: Tokens, database_url: str,
                                               tmp_path: Path) -> None:
    org = new_org(app_client, tokens)
    file = write(tmp_path, "big5.csv", b"name,email\r\nAlice,alice@example.com\r\n"
                 + "陳大文,chen@example.com\r\n".encode("big5"))

    result = run(database_url, "import", "people", file, "--organization", str(org.organization_id))

    assert result.returncode == 1
    assert [(row, column) for _, row, column, _ in row_lines(result.stderr)] == [(3, "*")]
    assert "UTF-8" in result.stderr
    assert people_of(app_client, tokens.admin, org.organization_id) == []


def test_a_nul_character_in_a_cell_is_a_bad_row_line_and_nothing_is_written(
        app_client: TestClient, tokens: Tokens, database_url: str, db: Callable[[], Session],
        tmp_path: Path) -> None:
    """Was a traceback on PostgreSQL and an import on SQLite: now a "row, column" line like any bad cell's."""
    org = org_with_quarter(app_client, tokens)
    people_before = people_of(app_client, tokens.admin, org.organization_id)
    people = write(tmp_path, "people.csv", csv_file(PEOPLE_HEADER, ["Ada Lin", "ada@example.com", "", ""],
                                                    ["Bo\0b", "", "", ""]))
    okrs = write(tmp_path, "okrs.csv", csv_file(OKR_HEADER,
                                                ["2026-Q1", "Sales", "Bob Lee", "Grow", "Demos", "0", "12", "", ""],
                                                ["2026-Q1", "Sales", "Bob Lee", "Grow", "Calls", "0", "12", "", "\0"]))

    for kind, file, where in (("people", people, (3, "name")), ("okrs", okrs, (3, "unit"))):
        result = run(database_url, "import", kind, file, "--organization", str(org.organization_id))

        assert result.returncode == 1, result.stdout
        assert "Traceback" not in result.stderr
        assert result.stdout == ""
        assert [(f, row, column) for f, row, column, _ in row_lines(result.stderr)] == [(file, *where)]
        assert "NUL character" in row_lines(result.stderr)[0][3]
    assert people_of(app_client, tokens.admin, org.organization_id) == people_before
    assert okrs_of(app_client, tokens.admin, org.engagement_id) == []
    assert count_events(db, "import.people", org.organization_id) == 1  # org_with_quarter's own import only
    assert count_events(db, "import.okrs", org.organization_id) == 0


def test_import_okrs_into_the_only_engagement_or_the_one_named(
        app_client: TestClient, tokens: Tokens, database_url: str, db: Callable[[], Session],
        tmp_path: Path) -> None:
    org = org_with_quarter(app_client, tokens)
    file = write(tmp_path, "plan.csv", PLAN)

    first = run(database_url, "import", "okrs", file, "--organization", str(org.organization_id))

    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"{file}: 4 rows; 3 created, 0 updated, 0 unchanged"
    okrs = okrs_of(app_client, tokens.admin, org.engagement_id)
    assert [(o["objective"], len(o["key_results"])) for o in okrs] == [
        ("Grow revenue", 2), ("Grow revenue", 1), ("Become an OKR company", 0)]

    second = create_engagement(app_client, tokens.admin, org.organization_id, coach_ids=[tokens.coach_person_id])
    unnamed = run(database_url, "import", "okrs", file, "--organization", str(org.organization_id))

    assert unnamed.returncode == 1
    assert "Traceback" not in unnamed.stderr
    assert "engagement" in unnamed.stderr

    named = run(database_url, "import", "okrs", file, "--organization", str(org.organization_id),
                "--engagement", str(org.engagement_id))

    assert named.returncode == 0, named.stderr
    assert named.stdout.strip() == f"{file}: 4 rows; 0 created, 0 updated, 3 unchanged"
    assert okrs_of(app_client, tokens.admin, org.engagement_id) == okrs
    assert okrs_of(app_client, tokens.admin, second["id"]) == []
    assert count_events(db, "import.okrs", org.organization_id) == 1


def test_a_bad_okr_file_lists_its_rows_and_writes_nothing(
        app_client: TestClient, tokens: Tokens, database_url: str, tmp_path: Path) -> None:
    org = org_with_quarter(app_client, tokens)
    file = write(tmp_path, "plan.csv", csv_file(
        OKR_HEADER,
        ["2026-Q1", "Sales", "Bob Lee", "Grow", "Demos", "0", "12", "", ""],
        ["2026-Q4", "Sales", "Bob Lee", "Grow", "Calls", "0", "12", "", ""],
        ["2026-Q1", "Sales", "Chen", "Grow", "Visits", "0", "twelve", "", ""]))

    result = run(database_url, "import", "okrs", file, "--organization", str(org.organization_id))

    assert result.returncode == 1
    assert [(row, column) for _, row, column, _ in row_lines(result.stderr)] == [
        (3, "quarter"), (4, "owner"), (4, "target")]
    assert okrs_of(app_client, tokens.admin, org.engagement_id) == []


def test_an_unknown_organization_or_file_is_a_clear_error(
        app_client: TestClient, database_url: str, tmp_path: Path) -> None:
    file = write(tmp_path, "team.csv", TEAM)

    no_org = run(database_url, "import", "people", file, "--organization", "999999")
    no_file = run(database_url, "import", "people", str(tmp_path / "absent.csv"), "--organization", "1")

    assert no_org.returncode == 1
    assert "no organization 999999" in no_org.stderr
    assert no_file.returncode == 2  # a usage error, before the database is opened
    assert "does not exist" in " ".join(re.sub("[│╭╮╰╯─]", " ", no_file.stderr).split())
    for result in (no_org, no_file):
        assert "Traceback" not in result.stderr


def test_import_help_describes_both_commands(database_url: str) -> None:
    group = run(database_url, "import", "--help")
    okrs = run(database_url, "import", "okrs", "--help")

    assert group.returncode == 0, group.stderr
    assert "people" in group.stdout and "okrs" in group.stdout
    assert okrs.returncode == 0, okrs.stderr
    assert "--organization" in okrs.stdout and "--engagement" in okrs.stdout
