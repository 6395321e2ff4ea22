"""Calendar feed secrets never reach the log: the filter ``okr-rollout serve`` gives uvicorn, on records shaped as
uvicorn's access log makes them (the served process itself: ``tests/e2e/test_idempotency_processes.py``)."""

from __future__ import annotations

import logging

import pytest
from uvicorn.logging import AccessFormatter

from okr_rollout.cli.serve import RedactFeedSecrets, log_config

SECRET = "cal_Zq9-secret_Value"


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.parametrize(("path", "shown"), [
    (f"/api/v1/calendar/{SECRET}.ics", "/api/v1/calendar/[redacted]"),
    (f"/api/v1/calendar/{SECRET}.ics?lang=zh-TW", "/api/v1/calendar/[redacted]?lang=zh-TW"),
    (f"/api/v1/calendar/{SECRET}", "/api/v1/calendar/[redacted]"),
    ("/api/v1/engagements/7/calendar.ics", "/api/v1/engagements/7/calendar.ics"),
])
def test_access_log_records_carry_no_feed_secret(path: str, shown: str) -> None:
    access = logging.getLogger("tests.uvicorn.access")
    captured = Captured()
    captured.addFilter(RedactFeedSecrets())
    access.addHandler(captured)
    access.setLevel(logging.INFO)
    try:
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 200)  # uvicorn's call
        access.warning("feed %s failed", f"https://okr.example{path}")
    finally:
        access.removeHandler(captured)
        access.setLevel(logging.NOTSET)
    line = AccessFormatter(fmt='%(client_addr)s - "%(request_line)s" %(status_code)s').format(captured.records[0])
    assert line == f'127.0.0.1:5000 - "GET {shown} HTTP/1.1" 200 OK'
    assert captured.records[1].getMessage() == f"feed https://okr.example{shown} failed"
    assert all(SECRET not in record.getMessage() for record in captured.records)


def test_serve_gives_the_filter_to_every_handler_of_uvicorn() -> None:
    config = log_config()
    assert config["filters"]["feed_secrets"]["()"] == "okr_rollout.cli.serve.RedactFeedSecrets"
    assert {name: handler["filters"] for name, handler in config["handlers"].items()} == {
        "default": ["feed_secrets"], "access": ["feed_secrets"]}
