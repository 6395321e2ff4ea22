"""A load generator run in its own process: requests one after the other on one keep-alive connection.

    python benchmarks/load.py SPEC.json

SPEC: {"host", "port", "headers": {...}, "requests": [[method, path, body or null], ...]}. Prints one JSON line:
{"requests": answered, "seconds": wall time from the first request sent to the last response read, "bad":
answers that were not 2xx, "first_bad": the first such answer, "latencies": seconds of each request}.
Python's own ``http.client``: a few tens of
microseconds per request on this side, the same for both servers measured.
"""

from __future__ import annotations

import http.client
import json
import sys
import time
from pathlib import Path


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    connection = http.client.HTTPConnection(spec["host"], spec["port"], timeout=30)
    headers = spec["headers"]
    bad, first_bad = 0, None
    latencies = []
    started = time.perf_counter()
    for method, path, body in spec["requests"]:
        sent = time.perf_counter()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read()
        latencies.append(time.perf_counter() - sent)
        if not 200 <= response.status < 300:
            bad += 1
            first_bad = first_bad or f"{method} {path}: {response.status} {content[:300]!r}"
    seconds = time.perf_counter() - started
    connection.close()
    print(json.dumps({"requests": len(spec["requests"]), "seconds": seconds, "bad": bad, "first_bad": first_bad,
                      "latencies": latencies}))


if __name__ == "__main__":
    main()
