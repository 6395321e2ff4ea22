"""Cursor pagination: items ordered by id; the cursor is the last id seen, opaque to clients."""

from __future__ import annotations

import base64
import binascii
from typing import Generic, TypeVar

from pydantic import BaseModel

from okr_rollout.errors import BadRequest
from okr_rollout.texts import LocalizedText

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind != "id" or not value.isdigit():
            raise ValueError(text)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest(LocalizedText("The cursor is not one this API gave out; start again from the first page.",
                                       "此游標不是本 API 所發出的;請從第一頁重新開始。")) from None


def page_of(items: list[T], ids: list[int], limit: int) -> Page[T]:
    """``items`` were fetched with limit + 1: one more than asked tells whether a next page exists."""
    if len(items) > limit:
        return Page(items=items[:limit], next_cursor=encode_cursor(ids[limit - 1]))
    return Page(items=items, next_cursor=None)
