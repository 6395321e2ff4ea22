"""`okr-rollout serve`: the options given to uvicorn."""

from __future__ import annotations

from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from okr_rollout.cli import app


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **options: calls.append({"target": target, **options}))
    return calls


def test_several_workers_get_a_minute_to_start_by_default(uvicorn_calls: list[dict[str, Any]]) -> None:
    """uvicorn's own 5 s had workers on a loaded machine killed and started again without end."""
    result = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 0, result.output
    [call] = uvicorn_calls
    assert call["workers"] == 2
    assert call["timeout_worker_healthcheck"] == 60


def test_the_workers_start_time_is_an_option(uvicorn_calls: list[dict[str, Any]]) -> None:
    result = CliRunner().invoke(app, ["serve", "--workers", "4", "--worker-start-timeout", "120"])
    assert result.exit_code == 0, result.output
    assert uvicorn_calls[0]["timeout_worker_healthcheck"] == 120


def test_a_start_time_below_one_second_is_refused(uvicorn_calls: list[dict[str, Any]]) -> None:
    result = CliRunner().invoke(app, ["serve", "--worker-start-timeout", "0"])
    assert result.exit_code != 0
    assert "--worker-start-timeout" in result.output
    assert uvicorn_calls == []
