"""A people file of 100,000 rows: through the API it meets the body limit (413 with a problem that says what to do,
or, when it fits, one request that starts an import job, which imports every row); through ``okr-rollout import``
it goes in whole or not at all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from okr_rollout.models import Event, Person
from tests.conftest import Tokens, auth
from tests.reliability._seed import API

ROOT = Path(__file__).resolve().parents[2]
ROWS = 100_000
MIB = 1024 * 1024


def rows_for(database_url: str) -> int:
    """100,000 rows on SQLite, the size these tests are about; 10,000 on PostgreSQL, which runs the same parse,
    check and batched writes, so that ten times the rows there would only add a minute of the same work."""
    return ROWS if database_url.startswith("sqlite") else ROWS // 10


def people_file(rows: int = ROWS, *, bad_row: int | None = None) -> bytes:
    """A realistic export: name, e-mail, department, role (about 5 MB for 100,000 rows)."""
    lines = ["name,email,department,role"]
    for i in range(rows):
        email = "not-an-address" if i + 2 == bad_row else f"person{i}@example.com"
        lines.append(f"Person {i},{email},Department {i % 40},member")
    return ("\n".join(lines) + "\n").encode()


def compact_file(rows: int = ROWS) -> bytes:
    """Names only: 100,000 rows in under 1 MiB."""
    return ("name\n" + "".join(f"P{i:x}\n" for i in range(rows))).encode()


def counts(engine: Engine, organization_id: int) -> tuple[int, int]:
    """People of the organization, and import events in its history."""
    with engine.connect() as connection:
        people = connection.scalar(select(func.count()).select_from(Person)
                                   .where(Person.organization_id == organization_id))
        imports = connection.scalar(select(func.count()).select_from(Event).where(
            Event.organization_id == organization_id, Event.type == "import.people"))
    return people or 0, imports or 0


def new_organization(client: TestClient, tokens: Tokens) -> int:
    created = client.post(f"{API}/organizations", json={"name": "Big Co", "headcount": ROWS},
                          headers=auth(tokens.admin))
    assert created.status_code == 201, created.text
    organization_id: int = created.json()["id"]
    return organization_id


def test_a_100k_row_file_over_the_body_limit_is_413_saying_what_to_do(
        app_client: TestClient, tokens: Tokens, engine: Engine) -> None:
    organization_id = new_organization(app_client, tokens)
    content = people_file()
    assert len(content) > MIB
    response = app_client.post(f"{API}/organizations/{organization_id}/imports?kind=people", content=content,
                               headers=auth(tokens.admin, **{"Content-Type": "text/csv"}))
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["max_body_bytes"] == MIB
    assert str(MIB) in problem["detail"] and "okr-rollout import" in problem["detail"]
    assert counts(engine, organization_id) == (0, 0)


def test_a_100k_row_file_within_the_limit_is_imported_by_one_request_s_job(
        app_client: TestClient, tokens: Tokens, engine: Engine, database_url: str) -> None:
    """100,000 rows on SQLite, 10,000 on PostgreSQL (``rows_for``)."""
    rows = rows_for(database_url)
    organization_id = new_organization(app_client, tokens)
    content = compact_file(rows)
    assert len(content) <= MIB
    response = app_client.post(f"{API}/organizations/{organization_id}/imports?kind=people", content=content,
                               headers=auth(tokens.admin, **{"Content-Type": "text/csv"}))
    assert response.status_code == 202, response.text
    app_client.app.state.import_runner.join()  # type: ignore[attr-defined]
    job = app_client.get(response.headers["Location"], headers=auth(tokens.admin))
    assert job.status_code == 200, job.text
    result = job.json()
    assert (result["status"], result["rows_done"], result["rows_total"]) == ("succeeded", rows, rows)
    assert (result["result"]["created"], len(set(result["result"]["ids"]))) == (rows, rows)
    assert counts(engine, organization_id) == (rows, 1)


def run_import(database_url: str, file: Path, organization_id: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OKR_ROLLOUT_DATABASE_URL": database_url, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "okr_rollout.cli", "import", "people", str(file),
                           "--organization", str(organization_id)],
                          capture_output=True, text=True, encoding="utf-8", cwd=ROOT, env=env, check=False)


def test_the_cli_imports_100k_rows_all_or_nothing(app_client: TestClient, tokens: Tokens, engine: Engine,
                                                  database_url: str, tmp_path: Path) -> None:
    """100,000 rows on SQLite, 10,000 on PostgreSQL (``rows_for``)."""
    rows = rows_for(database_url)
    organization_id = new_organization(app_client, tokens)
    broken = tmp_path / "broken.csv"
    broken.write_bytes(people_file(rows, bad_row=rows + 1))  # the very last row
    refused = run_import(database_url, broken, organization_id)
    assert refused.returncode == 1, refused.stderr
    assert f"row {rows + 1}, column email" in refused.stderr
    assert counts(engine, organization_id) == (0, 0)

    whole = tmp_path / "people.csv"
    whole.write_bytes(people_file(rows))
    imported = run_import(database_url, whole, organization_id)
    assert imported.returncode == 0, imported.stderr
    assert f"{rows} rows; {rows} created, 0 updated, 0 unchanged" in imported.stdout
    assert counts(engine, organization_id) == (rows, 1)
