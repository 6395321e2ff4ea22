"""Helpers for the page tests: forms posted as a browser posts them, and what the pages say."""

from __future__ import annotations

import re
from html import unescape

from fastapi.testclient import TestClient


def post_form(web: TestClient, token: str, url: str, data: dict[str, str | list[str]]) -> tuple[int, str, str]:
    """Post ``data`` as a form with the session's CSRF token; (status, location, body)."""
    response = web.post(url, data={"csrf_token": token, **data})
    return response.status_code, response.headers.get("location", ""), response.text


def text_of(html: str) -> str:
    """The page's text, roughly as a reader sees it (tags and script-free)."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def field_errors(html: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for field, message in re.findall(r'<p class="field-error" id="error-([a-z_0-9]*)-\d+">([^<]*)</p>', html):
        errors.setdefault(field, []).append(unescape(message))
    return errors
