"""``okr-rollout serve`` caught in the middle of one request, for good: a worker to kill while it works.

    python -m tests.e2e._paused serve [--host H] [--port P]

Builds what ``okr-rollout serve`` builds (``create_served_app``: settings from OKR_ROLLOUT_*, the engine, the
catalog), with one difference: when the statement about to run on the app's engine
inserts an organization named ``PAUSE_AT``, the process writes ``PAUSED`` to its output and waits there until it
is killed, its transaction open. Production code has no such hook; only this launcher does.
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

PAUSE_AT = "Pause here"
PAUSED = "PAUSED mid-request"


def serve(host: str | None, port: int | None) -> None:
    import uvicorn
    from sqlalchemy import event

    from okr_rollout.app import create_served_app
    from okr_rollout.settings import get_settings

    settings = get_settings()
    app = create_served_app()
    never = threading.Event()

    def pause(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ORGANIZATIONS") and PAUSE_AT in repr(parameters):
            print(PAUSED, flush=True)
            never.wait()  # until SIGKILL: the test's readiness is the line above, not a duration

    event.listen(app.state.engine, "before_cursor_execute", pause)
    uvicorn.run(app, host=host or settings.host, port=port or settings.port)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.e2e._paused")
    commands = parser.add_subparsers(dest="command", required=True)
    served = commands.add_parser("serve")
    served.add_argument("--host")
    served.add_argument("--port", type=int)
    arguments = parser.parse_args()
    serve(arguments.host, arguments.port)
    sys.exit(0)


if __name__ == "__main__":
    main()
