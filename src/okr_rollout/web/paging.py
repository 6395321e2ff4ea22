"""Links between the pages of a list: the same page with one list's offset changed, every other parameter kept."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from starlette.requests import Request


def offset_param(request: Request, name: str) -> int:
    """The offset a link asked for (0 when absent or not a whole number)."""
    value = request.query_params.get(name, "")
    return int(value) if value.isdigit() else 0


def page_links(request: Request) -> Callable[[str, int], str]:
    """``url(name, offset)``: this page's path and query with ``name`` set to ``offset`` (dropped when 0)."""
    def url(name: str, offset: int) -> str:
        query = [(k, v) for k, v in request.query_params.multi_items() if k != name]
        if offset:
            query.append((name, str(offset)))
        return request.url.path + (f"?{urlencode(query)}" if query else "")

    return url
