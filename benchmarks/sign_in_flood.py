"""A sign-in flood: N clients posting ``/sign-in`` with unknown addresses as fast as answers come back, until told
to stop. Another benchmark runs it beside what it measures (a small write's latency during the flood).

    with SignInFlood("http://127.0.0.1:8000", clients=16) as flood:
        ...  # measure
    print(flood.statuses)  # e.g. {401: 812}: 401 = a password was checked, 429 = refused by the throttle

Each attempt uses a new unknown address, so no account's throttle refuses it; the per-client-address throttle
(``OKR_ROLLOUT_WEB_SIGN_IN_CLIENT_FAILURES``, 100 an hour) will, once 100 attempts came from one address. For a
flood that keeps checking passwords, either serve with that setting raised, or serve with
``OKR_ROLLOUT_WEB_TRUSTED_PROXIES=127.0.0.1`` and pass ``forwarded_for=True``: every attempt then claims a new
client address in X-Forwarded-For.

    python benchmarks/sign_in_flood.py http://127.0.0.1:8000 --clients 16 --seconds 10
"""

from __future__ import annotations

import argparse
import ipaddress
import itertools
import re
import threading
import time
from collections import Counter
from types import TracebackType

import httpx

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FIRST_CLAIMED_ADDRESS = int(ipaddress.ip_address("10.200.0.1"))


class SignInFlood:
    """``clients`` threads, each with its own connection and CSRF cookie, posting wrong sign-ins until ``stop()``."""

    def __init__(self, base_url: str, *, clients: int = 16, forwarded_for: bool = False,
                 timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.clients = clients
        self.forwarded_for = forwarded_for
        self.timeout = timeout
        self.statuses: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()  # transport errors (timeouts, refused connections) by type
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._numbers = itertools.count()
        self._threads: list[threading.Thread] = []

    def start(self) -> SignInFlood:
        self._threads = [threading.Thread(target=self._client, name=f"sign-in-flood-{n}", daemon=True)
                         for n in range(self.clients)]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    @property
    def attempts(self) -> int:
        with self._lock:
            return sum(self.statuses.values())

    def __enter__(self) -> SignInFlood:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    def _client(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=self.timeout, follow_redirects=False) as client:
            token = ""
            while not self._stop.is_set():
                number = next(self._numbers)
                try:
                    if not token:
                        found = CSRF.search(client.get("/sign-in").text)
                        token = found.group(1) if found else ""
                    headers = {"X-Forwarded-For": str(ipaddress.ip_address(FIRST_CLAIMED_ADDRESS + number))} \
                        if self.forwarded_for else {}
                    response = client.post("/sign-in", headers=headers, data={
                        "email": f"flood-{number}@unknown.example", "password": "not the password",
                        "csrf_token": token})
                except httpx.HTTPError as error:
                    with self._lock:
                        self.errors[type(error).__name__] += 1
                    continue
                with self._lock:
                    self.statuses[response.status_code] += 1


def run_flood(base_url: str, *, clients: int = 16, stop: threading.Event, forwarded_for: bool = False) -> Counter[int]:
    """Flood ``base_url`` with ``clients`` clients until ``stop`` is set; returns how many answers of each status."""
    flood = SignInFlood(base_url, clients=clients, forwarded_for=forwarded_for).start()
    stop.wait()
    flood.stop()
    return flood.statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base_url")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--forwarded-for", action="store_true")
    arguments = parser.parse_args()
    with SignInFlood(arguments.base_url, clients=arguments.clients, forwarded_for=arguments.forwarded_for) as flood:
        time.sleep(arguments.seconds)
    print(f"{flood.attempts} attempts in {arguments.seconds:g} s: "
          + ", ".join(f"{status}: {count}" for status, count in sorted(flood.statuses.items()))
          + (f"; errors: {dict(flood.errors)}" if flood.errors else ""))


if __name__ == "__main__":
    main()
