"""Field types shared by the API's input models, so that every value accepted renders everywhere.

A date far in the past or the future is accepted by pydantic but breaks what shows it: a meeting held at
``0001-01-01T00:00:00Z`` is in year 0 in America/Los_Angeles (``OverflowError``), a quarter ending on 9999-12-31
has no next day. Dates are therefore bounded to a range no rollout leaves, for datetimes in every time zone (the
organization's is not known to the input model, and its conversion must stay in range too).

A text that a one-line format shows (an iCalendar SUMMARY or X-WR-CALNAME, an e-mail header, a file name) must
not carry a line break: names and titles are refused when they do. Longer texts (notes, missions) keep theirs.
Values stored before these rules existed, or arriving by another way (a CSV import), are folded where they are
written out (``one_line``).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field
from pydantic_core import PydanticCustomError

EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2200, 12, 31)
# The widest offsets from UTC a time zone has had since 1970 (Etc/GMT+12, Pacific/Kiritimati): an instant
# within these bounds has a local date within [EARLIEST_DATE, LATEST_DATE] everywhere.
_MOST_BEHIND = timedelta(hours=12)
_MOST_AHEAD = timedelta(hours=14)
EARLIEST_INSTANT = datetime.combine(EARLIEST_DATE, time(), tzinfo=UTC) + _MOST_BEHIND
LATEST_INSTANT = datetime.combine(LATEST_DATE, time.max, tzinfo=UTC) - _MOST_AHEAD

DATE_OUT_OF_RANGE = "date_out_of_range"
LINE_BREAK = "line_break"

# Every character after which a reader of text may start a new line (str.splitlines' set), and the other
# control characters that have no place in a one-line text (NUL is refused earlier, for every field).
_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_LINE_BREAK = re.compile(f"[{_BREAKS}]")
_CONTROL = re.compile("[\x01-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f]")
_UNWRITABLE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029{_BREAKS}]")


def _date_in_range(value: date) -> date:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise PydanticCustomError(DATE_OUT_OF_RANGE, "must be a date from {earliest} to {latest}",
                                  {"earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()})
    return value


def _instant_in_range(value: datetime) -> datetime:
    """Naive values are read as UTC, as the services store them."""
    try:
        instant = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        in_range = EARLIEST_INSTANT <= instant <= LATEST_INSTANT
    except (OverflowError, ValueError):  # year 1 or 9999 with an offset: far outside anyway
        in_range = False
    if not in_range:
        raise PydanticCustomError(
            DATE_OUT_OF_RANGE,
            "must fall from {earliest} to {latest} in every time zone (from {first} to {last})",
            {"earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat(),
             "first": EARLIEST_INSTANT.isoformat().replace("+00:00", "Z"),
             "last": LATEST_INSTANT.replace(microsecond=0).isoformat().replace("+00:00", "Z")})
    return value


def _one_line(value: str) -> str:
    if _LINE_BREAK.search(value) or _CONTROL.search(value):
        raise PydanticCustomError(LINE_BREAK, "must be one line: no line break or control character")
    return value


BoundedDate = Annotated[date, AfterValidator(_date_in_range)]
"""A calendar date from 1970-01-01 to 2200-12-31."""

BoundedDateTime = Annotated[datetime, AfterValidator(_instant_in_range)]
"""A moment whose local date is from 1970-01-01 to 2200-12-31 in every time zone (naive: UTC)."""

BoundedAwareDateTime = Annotated[AwareDatetime, AfterValidator(_instant_in_range)]
"""``BoundedDateTime`` that must carry its offset."""

OneLine = Annotated[str, AfterValidator(_one_line)]
"""Text shown on one line (names, titles, labels): no line break, no control character."""


def one_line(value: str) -> str:
    """``value`` safe for a one-line format: every line break or control character becomes a space (for values
    that reached the database before ``OneLine`` refused them, or by a way that does not check them)."""
    return _UNWRITABLE.sub(" ", value)


def multi_line(value: str) -> str:
    """``value`` with its line breaks as ``\\n`` and no other control character: for a text format that escapes
    ``\\n`` itself (iCalendar's TEXT) but not a bare CR or a Unicode line separator."""
    normalized = re.sub(f"\r\n|[{_BREAKS}]", "\n", value)
    return re.sub("[\x00-\x08\x0b-\x1f\x7f-\x9f]", " ", normalized)


def _without_null(schema: dict[str, Any]) -> None:
    schema.pop("default", None)
    branches = [branch for branch in schema.get("anyOf", []) if branch != {"type": "null"}]
    if "anyOf" in schema and len(branches) == 1:
        del schema["anyOf"]
        schema.update({key: value for key, value in branches[0].items() if key not in schema})


def may_be_left_out() -> Any:
    """The default of an update's field that may be left out (unchanged) but not set to null: the service
    refuses null with a 422 naming the field, and the document says so (no null, no default), so that a client
    generated from it offers no null to send. A field whose null clears the value stays ``X | None = None``."""
    return Field(None, json_schema_extra=_without_null)
