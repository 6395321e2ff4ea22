"""Webhook delivery: throughput against a bare httpx loop, and a healthy receiver's delay beside a slow one.

    python -m benchmarks.webhooks receiver PORT   # the receiver process of the throughput figure (uvicorn)

``webhook_delivery``: events a second delivered by ``Deliveries`` (plan a batch, sign each message at send,
POST over the worker's one client, record the batch in one commit), passes until caught up, against a bare
loop of ``httpx.Client.post`` of the same bodies and headers to the same receiver (a process of its own),
taking turns, best of three each.

``webhook_neighbour_p99``: the p99 delay from an event's commit to its arrival at a healthy receiver while a
second subscription's receiver takes ``slow_seconds`` to answer each request, beside the same with no second
subscription. Delivery runs as in a worker: the dispatcher thread, ``webhook_poll_seconds`` apart.
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from benchmarks.cases import BENCH, Result
from okr_rollout.db import make_session_factory, session_scope
from okr_rollout.events import service as events
from okr_rollout.settings import Settings
from okr_rollout.webhooks import service
from okr_rollout.webhooks.delivery import Deliveries
from okr_rollout.webhooks.schemas import SubscriptionCreate

ROOT = Path(__file__).resolve().parents[1]
WAIT_LIMIT_SECONDS = 30


def _handler(delay: float, release: threading.Event | None, arrivals: dict[int, float] | None) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a CRM's receiver behind a proxy

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if arrivals is not None:
                arrivals.setdefault(json.loads(body)["data"]["event_id"], time.monotonic())
            if delay and (release is None or not release.is_set()):
                # The slow receiver; released at the end of a run so that shutting down does not wait.
                (release or threading.Event()).wait(delay)
            # One write: headers and body in separate segments would meet delayed ACKs on a kept-alive connection.
            self.wfile.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client closing its connection at the end of a run is not news


@contextmanager
def _local_receiver(delay: float = 0.0, release: threading.Event | None = None,
                    arrivals: dict[int, float] | None = None) -> Iterator[str]:
    server = _QuietServer(("127.0.0.1", 0), _handler(delay, release, arrivals))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def _receiver_process() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.webhooks", "receiver", str(port)], cwd=ROOT)
    try:
        deadline = time.monotonic() + WAIT_LIMIT_SECONDS
        while True:  # ready once it accepts a connection
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the benchmark receiver did not start") from None
                time.sleep(0.02)
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        process.terminate()
        process.wait()


def _subscribe(factory: Any, url: str) -> tuple[int, str]:
    with session_scope(factory) as session:
        subscription = service.create(session, BENCH, SubscriptionCreate(url=url, event_types=["*"]),
                                      datetime.now(UTC), allow_private=True)
        return subscription.id, subscription.secret


def _unsubscribe(factory: Any, *subscription_ids: int) -> None:
    with session_scope(factory) as session:
        for subscription_id in subscription_ids:
            service.delete(session, BENCH, service.get(session, subscription_id), datetime.now(UTC))


def _append(factory: Any, count: int) -> list[int]:
    with session_scope(factory) as session:
        return [events.append(session, type="engagement.created", actor="benchmark", at=datetime.now(UTC),
                              payload={"playbook": "standard", "number": n}).id for n in range(count)]


def _settings(url: str, **changes: Any) -> Settings:
    return Settings(database_url=url, webhooks_allow_private=True, webhook_rate_per_subscription=0, **changes)


def webhook_delivery(engine: Engine, url: str, count: int) -> Result:
    """Events a second: ``Deliveries`` until caught up vs. a bare httpx loop POSTing the same messages."""
    factory = make_session_factory(engine)
    with _receiver_process() as receiver:
        subscription_id, _secret = _subscribe(factory, receiver)
        ids = _append(factory, count)
        deliveries = Deliveries(factory, _settings(url), lambda: datetime.now(UTC))
        # The same bodies and headers, made before the bare loop is timed: it only POSTs.
        from okr_rollout.webhooks.delivery import plan
        with session_scope(factory, write=False) as session:
            batch = plan(session, subscription_id, datetime.now(UTC), count + 10)
        assert batch is not None and len(batch.messages) == count
        bodies = [(m.body.encode(), {"content-type": "application/json", "webhook-id": m.webhook_id,
                                     "webhook-timestamp": "0", "webhook-signature": "v1,x"})
                  for m in batch.messages]

        def ours() -> float:
            with session_scope(factory) as session:
                service.replay(session, BENCH, service.get(session, subscription_id, for_change=True), ids[0],
                               datetime.now(UTC))
            started = time.perf_counter()
            delivered = 0
            while (done := deliveries.deliver_pending()) > 0:
                delivered += done
            elapsed = time.perf_counter() - started
            assert delivered == count, delivered
            return count / elapsed

        def bare() -> float:
            with httpx.Client(trust_env=False) as client:
                started = time.perf_counter()
                for body, headers in bodies:
                    client.post(receiver, content=body, headers=headers).raise_for_status()
                return count / (time.perf_counter() - started)

        values, baselines = [], []
        try:
            for _ in range(3):  # in turns
                values.append(ours())
                baselines.append(bare())
        finally:
            deliveries.close()
            _unsubscribe(factory, subscription_id)
    return Result(max(values), max(baselines), ">= 0.5", "events/s")


def _p99(delays: list[float]) -> float:
    return statistics.quantiles(delays, n=100, method="inclusive")[98] if len(delays) > 1 else delays[0]


def _healthy_delays(engine: Engine, url: str, *, slow_seconds: float, events_count: int,
                    gap: float) -> list[float]:
    factory = make_session_factory(engine)
    arrivals: dict[int, float] = {}
    release = threading.Event()
    with _local_receiver(arrivals=arrivals) as healthy_url, \
            _local_receiver(slow_seconds, release) as slow_url:
        subscriptions = [_subscribe(factory, slow_url)[0]] if slow_seconds else []
        subscriptions.append(_subscribe(factory, healthy_url)[0])
        settings = _settings(url)  # the default poll interval, as a worker runs
        deliveries = Deliveries(factory, settings, lambda: datetime.now(UTC))
        dispatcher = threading.Thread(target=deliveries.run, args=(settings.webhook_poll_seconds, lambda: True),
                                      daemon=True)
        dispatcher.start()
        committed: dict[int, float] = {}
        try:
            for _ in range(events_count):
                [event_id] = _append(factory, 1)
                committed[event_id] = time.monotonic()
                time.sleep(gap)  # the pace of a busy CRM's changes (benchmark code: real time is the point)
            deadline = time.monotonic() + WAIT_LIMIT_SECONDS + slow_seconds
            while not set(committed) <= set(arrivals):
                if time.monotonic() > deadline:
                    raise RuntimeError("the healthy receiver did not get every event")
                time.sleep(0.01)
        finally:
            release.set()
            deliveries.close()
            dispatcher.join()
            _unsubscribe(factory, *subscriptions)
    return [arrivals[event_id] - at for event_id, at in committed.items()]


def webhook_neighbour_p99(engine: Engine, url: str, *, slow_seconds: float, events_count: int = 60,
                          gap: float = 0.05) -> Result:
    """p99 of commit-to-arrival at a healthy receiver beside one answering in ``slow_seconds``, vs. alone."""
    alone = _healthy_delays(engine, url, slow_seconds=0, events_count=events_count, gap=gap)
    beside = _healthy_delays(engine, url, slow_seconds=slow_seconds, events_count=events_count, gap=gap)
    return Result(_p99(beside), _p99(alone), "<= 2x and < 2 s", "s")


async def _receiving_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The fastest honest receiver Python offers: read the body, answer 200 (uvicorn, keep-alive)."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _serve(port: int) -> None:
    import uvicorn

    uvicorn.run(_receiving_app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                lifespan="off")


if __name__ == "__main__" and sys.argv[1:2] == ["receiver"]:
    _serve(int(sys.argv[2]))
