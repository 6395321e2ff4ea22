"""One page of a list a page shows: its items, where it starts, and how many there are in all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class ListPage(Generic[T]):
    """Items ``offset + 1`` to ``offset + len(items)`` of ``total``, pages of ``limit``."""

    items: Sequence[T]
    offset: int
    limit: int
    total: int

    @property
    def first(self) -> int:
        return self.offset + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.items)

    @property
    def previous_offset(self) -> int | None:
        return max(0, self.offset - self.limit) if self.offset > 0 else None

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None


def clamp_offset(offset: int | None, total: int, limit: int) -> int:
    """An offset within the list, on a page boundary (a stale link past the end shows the last page)."""
    if not offset or offset < 0 or total == 0:
        return 0
    offset = min(offset, (total - 1) // limit * limit)
    return offset - offset % limit
