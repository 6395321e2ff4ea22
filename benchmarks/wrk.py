"""wrk (the Debian package, installed by ``.ci/run``) as the HTTP load generator of the duration-based figures.

wrk is written in C and keeps its connections busy with a few threads on epoll, so it does not cap a fast
endpoint the way Python client threads do. A small Lua ``done`` hook prints what the figures need on one line as
JSON (wrk's own ``--latency`` report gives no 95th percentile): requests, seconds, the answers that were not
2xx/3xx, socket errors, and latency percentiles from wrk's histogram.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

WRK = "wrk"
MARK = "WRK_SUMMARY "
_DONE = """
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    '%s{"requests": %d, "microseconds": %d, "status_errors": %d, "socket_errors": %d, '
    .. '"p50_us": %d, "p95_us": %d, "p99_us": %d}\\n',
    "%MARK%", summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
""".replace("%MARK%", MARK)


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    status_errors: int  # answers that were not 2xx or 3xx
    socket_errors: int
    p50: float  # seconds
    p95: float
    p99: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def available() -> bool:
    return shutil.which(WRK) is not None


def run(url: str, headers: dict[str, str], workdir: Path, *, seconds: float, connections: int, threads: int,
        warm_up: bool = False) -> Run:
    """wrk against ``url`` for ``seconds`` on ``connections`` keep-alive connections over ``threads`` threads.
    Raises if any answer was not 2xx/3xx or a socket failed: a figure of errors is no figure. A ``warm_up`` run
    may end with no answer yet (a server's first requests open its database connections; wrk counts only
    the requests answered before its time is up)."""
    if not available():
        raise RuntimeError("wrk is not installed (Debian package `wrk`; .ci/run installs it)")
    script = workdir / "wrk-summary.lua"
    script.write_text(_DONE)
    args = [WRK, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "30s",
            "-s", str(script)]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    finished = subprocess.run([*args, url], capture_output=True, text=True, check=True)
    line = next((line for line in finished.stdout.splitlines() if line.startswith(MARK)), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary: {finished.stdout}\n{finished.stderr}")
    summary = json.loads(line.removeprefix(MARK))
    result = Run(summary["requests"], summary["microseconds"] / 1e6, summary["status_errors"],
                 summary["socket_errors"], summary["p50_us"] / 1e6, summary["p95_us"] / 1e6, summary["p99_us"] / 1e6)
    if result.status_errors or result.socket_errors or not (result.requests or warm_up):
        raise RuntimeError(f"wrk against {url}: {result}\n{finished.stdout}")
    return result
