"""Cursor pagination: items ordered by id; the cursor is the last id seen, opaque to clients, bound to its list.

A cursor names the list it was given out for (a hash of the list's path: ``/api/v1/engagements/7/tasks`` and
``/api/v1/engagements/8/tasks`` are two lists), so that a cursor sent to another list is refused (422 naming
``query.cursor``) rather than silently starting that list somewhere in its middle.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel

from okr_rollout.errors import BadRequest, Unprocessable, field_error
from okr_rollout.texts import LocalizedText

T = TypeVar("T")
_KEY_LENGTH = 12  # hex digits of the list's hash: enough to tell lists apart, short enough for a URL

NOT_OURS = LocalizedText("The cursor is not one this API gave out; start again from the first page.",
                         "此游標不是本 API 所發出的;請從第一頁重新開始。")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def list_key(path: str) -> str:
    return hashlib.sha256(path.encode()).hexdigest()[:_KEY_LENGTH]


def encode_cursor(key: str, last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{key}:{last_id}".encode()).decode().rstrip("=")


def _decoded(cursor: str) -> str:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()


def is_list_cursor(cursor: str) -> bool:
    """Whether ``cursor`` is a cursor of an id-ordered list (sent to another kind of list: refused as such)."""
    try:
        key, _, value = _decoded(cursor).partition(":")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return len(key) == _KEY_LENGTH and all(c in "0123456789abcdef" for c in key) and value.isdigit()


def is_portfolio_cursor(cursor: str) -> bool:
    """Whether ``cursor`` was given out by the portfolio (its own format: a sort key, not an id)."""
    try:
        data = json.loads(_decoded(cursor))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        return False
    return isinstance(data, dict) and "sort" in data and "after" in data


def another_lists_cursor() -> Unprocessable:
    message = LocalizedText("was given out for another list; start this one from its first page (no cursor)",
                            "是另一個清單所發出的游標;請從此清單的第一頁開始(不帶游標)")
    return Unprocessable(LocalizedText(f"query.cursor {message.en}.", f"query.cursor {message.zh_tw}。"),
                         errors=[field_error("query.cursor", message, "foreign_cursor")])


def decode_cursor(cursor: str | None, key: str) -> int:
    """The last id of the previous page of the list ``key`` (0: the first page); 400 for a cursor this API did
    not give out, 422 for one of another list."""
    if not cursor:
        return 0
    if is_portfolio_cursor(cursor):
        raise another_lists_cursor()
    if not is_list_cursor(cursor):
        raise BadRequest(NOT_OURS)
    found, _, value = _decoded(cursor).partition(":")
    if found != key:
        raise another_lists_cursor()
    return int(value)


@dataclass(frozen=True)
class PageCursor:
    """Where a page of one list starts, read from its ``cursor`` query parameter."""

    key: str
    last_id: int  # 0: the first page

    @property
    def after(self) -> int:
        """For a list in ascending ids: the page starts after this id (0: from the start)."""
        return self.last_id

    @property
    def before(self) -> int | None:
        """For a list in descending ids (newest first): the page starts before this id (None: from the newest)."""
        return self.last_id or None

    def page(self, items: list[T], ids: list[int], limit: int) -> Page[T]:
        """``items`` were fetched with limit + 1: one more than asked tells whether a next page exists."""
        if len(items) > limit:
            return Page(items=items[:limit], next_cursor=encode_cursor(self.key, ids[limit - 1]))
        return Page(items=items, next_cursor=None)


async def page_cursor(
    request: Request,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page of this same list.")] = None,
) -> PageCursor:
    key = list_key(request.url.path)
    return PageCursor(key, decode_cursor(cursor, key))


Cursor = Annotated[PageCursor, Depends(page_cursor)]
