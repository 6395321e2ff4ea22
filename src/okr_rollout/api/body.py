"""A request's body as the middleware reads it: whole and bounded, handed on to the app again, and searched for
the NUL character that PostgreSQL cannot store."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Message, Receive

NUL_FIELDS = "okr_rollout.nul_fields"


def nul_fields(body: bytes) -> list[tuple[int | str, ...]]:
    """Where a JSON body carries the NUL character, in a string or in a key (FastAPI's location notation,
    under "body"). PostgreSQL cannot store it in text and SQLite can: refused on both (api.deps.get_caller)."""
    if b"\\u0000" not in body and b"\x00" not in body:  # escaped (UTF-8), or a body in UTF-16 or UTF-32
        return []
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return []  # FastAPI answers it as malformed JSON
    found: list[tuple[int | str, ...]] = []
    pending: list[tuple[tuple[int | str, ...], Any]] = [(("body",), document)]
    while pending:  # not recursive: a body may nest deeply
        path, value = pending.pop()
        if isinstance(value, str):
            if "\0" in value:
                found.append(path)
        elif isinstance(value, list):
            pending.extend(((*path, index), item) for index, item in enumerate(value))
        elif isinstance(value, dict):
            for name, item in value.items():
                if "\0" in name:
                    found.append((*path, name.replace("\0", "\\u0000")))
                else:
                    pending.append(((*path, name), item))
    return sorted(found, key=str)


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None when it exceeds ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def replaying(body: bytes) -> Receive:
    """A receive channel that hands the app the body already read, once."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive
