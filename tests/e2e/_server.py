"""A real ``okr-rollout serve`` process on a loopback port, for the tests that kill it or race it.

Waiting here is polling another process with a deadline (it is up when /healthz answers; it is gone when the OS
says so), never a pause that stands for the passing of time.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[2]
# A guard against a process that never comes up, not a measure of it: on a busy machine starting Python and
# importing the app has taken over 30 s. Readiness itself is a health URL that answers or a log line.
START_DEADLINE = 180.0
POLL = 0.1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(POLL)
    return condition()


class Process:
    """An ``okr-rollout`` command against ``database_url``, its output in ``log``; settings as OKR_ROLLOUT_*."""

    module = "okr_rollout.cli"  # what ``python -m`` runs: the command line, or a launcher with the same commands

    def __init__(self, database_url: str, log: Path, **settings: str) -> None:
        self.database_url = database_url
        self.log = log
        self.settings = settings
        self.process: subprocess.Popen[bytes] | None = None

    def run(self, *args: str) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "OKR_ROLLOUT_DATABASE_URL": self.database_url,
               **{f"OKR_ROLLOUT_{name.upper()}": value for name, value in self.settings.items()}}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", self.module, *args], env=env, cwd=ROOT,
                                            stdout=log, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def exited(self) -> bool:
        """Whether the process has ended; when it ended before the test meant it to, the test fails with its log."""
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"{self.module} exited with {self.process.returncode}:\n{self.log_tail()}")
        return False

    def logged(self, line: str) -> bool:
        return not self.exited() and self.log.exists() and line in self.log.read_text(errors="replace")

    def kill_9(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)

    def log_tail(self, lines: int = 60) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


class Scheduler(Process):
    """``okr-rollout scheduler``: reminders and deliveries, without the web API."""

    def start(self) -> Scheduler:
        self.run("scheduler")
        return self

    def wait_running(self) -> None:
        """Until it says it runs (after its jobs have started)."""
        assert wait_until(lambda: self.logged("scheduler running against"), START_DEADLINE), (
            f"the scheduler never started:\n{self.log_tail()}")


class Server(Process):
    """``okr-rollout serve`` on a free loopback port, without the scheduler (the web process alone)."""

    port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        self.port = free_port()
        self.settings.setdefault("scheduler_in_web", "false")
        self.run("serve", "--host", "127.0.0.1", "--port", str(self.port))
        assert wait_until(self._answers, START_DEADLINE), f"the server never came up:\n{self.log_tail()}"
        return self

    def _answers(self) -> bool:
        if self.exited():
            return False
        try:
            return httpx2.get(f"{self.url}/healthz", timeout=5).status_code == 200
        except httpx2.HTTPError:
            return False
