"""Browser tests: the real pages served by uvicorn on a loopback port, driven in Debian's headless Chromium.

The server runs in a thread of the test process on a socket bound before it starts (so no waiting for it), with a
migrated SQLite database and a fixed clock. Playwright drives /usr/bin/chromium; it never downloads a browser.
"""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from okr_rollout.app import create_app
from okr_rollout.db import make_engine
from okr_rollout.settings import Settings
from tests.conftest import ROOT, Clock, playbooks_catalog
from tests.web._seed import World, seed

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).parent / "screenshots"


@dataclass(frozen=True)
class Site:
    url: str
    world: World
    clock: Clock
    database_url: str = ""


@pytest.fixture
def site(sqlite_template: Path, tmp_path: Path, clock: Clock) -> Iterator[Site]:
    database = tmp_path / "e2e.db"
    shutil.copy(sqlite_template, database)
    url = f"sqlite:///{database}"
    engine = make_engine(url)
    world = seed(engine, clock.now)
    app = create_app(Settings(database_url=url, playbooks_dir=ROOT / "playbooks"), engine=engine, clock=clock,
                     catalog=playbooks_catalog())
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # connections wait in the backlog until the server accepts them
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{port}", world, clock, url)
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
        engine.dispose()


@pytest.fixture
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium; "
                    ".ci/run installs it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def shot(page: Page, name: str) -> None:
    """Keep a screenshot of the page as a test artefact (git-ignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
