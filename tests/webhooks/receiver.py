"""A real HTTP receiver on loopback that checks Standard Webhooks signatures the way a CRM would."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered
    verified: Any  # the JSON document when its signature verified, else None
    verify_error: str | None

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def event_id(self) -> int:
        event_id: int = json.loads(self.body)["data"]["event_id"]
        return event_id


@dataclass
class Receiver:
    """Answers each request with the next planned (status, headers), then 200; records everything."""

    secret: str | None = None
    planned: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    # Called with each request once it is verified and recorded, before it is answered: a slow receiver
    # advances a simulated clock here, a test waits here for something to happen elsewhere first.
    on_arrival: Callable[[Received], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def url(self, path: str = "/hook") -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def answer(self, *statuses: int | tuple[int, dict[str, str]]) -> None:
        """Plan the next answers: a status, or a (status, headers) pair."""
        for status in statuses:
            self.planned.append(status if isinstance(status, tuple) else (status, {}))

    @property
    def delivered(self) -> list[Received]:
        """The requests answered with success, in arrival order."""
        return [r for r in self.received if 200 <= r.status < 300]

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self._handle()

            def do_GET(self) -> None:
                self._handle()

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified, error = None, None
                if receiver.secret is not None:
                    try:
                        verified = Webhook(receiver.secret).verify(body, headers)
                    except WebhookVerificationError as failure:
                        error = str(failure)
                with receiver._lock:
                    status, extra = receiver.planned.pop(0) if receiver.planned else (200, {})
                    arrived = Received(self.command, self.path, headers, body, status, verified, error)
                    receiver.received.append(arrived)
                if receiver.on_arrival is not None:
                    receiver.on_arrival(arrived)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output clean

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
