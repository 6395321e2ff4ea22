"""Reading an uploaded CSV into rows with the problems of every bad cell, before anything is written."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field

# The type of a cell holding the NUL character; the API's name for the same rule in a JSON body.
NUL = "string_nul"


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int  # the line number a spreadsheet shows: the header is row 1
    column: str
    message: str
    type: str

    def as_error(self) -> dict[str, object]:
        return {"field": f"rows[{self.row}].{self.column}", "row": self.row, "column": self.column,
                "message": self.message, "type": self.type}

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.message}"


@dataclass
class Table:
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


def read_table(content: bytes, columns: Mapping[str, tuple[str, ...]], required: set[str]) -> Table:
    """Rows keyed by canonical column name. ``columns`` maps each name to the headers accepted for it
    (English and Traditional Chinese); a UTF-8 byte-order mark is accepted and dropped."""
    table = Table()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        table.problems.append(RowProblem(text_line(content, error.start), "*",
                                         f"the file is not UTF-8 (byte {error.start})", "encoding"))
        return table
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        table.problems.append(RowProblem(1, "*", "the file is empty; it needs a header row", "empty"))
        return table
    except csv.Error as error:
        table.problems.append(RowProblem(1, "*", f"not valid CSV: {error}", "csv"))
        return table
    aliases = {alias.strip().lower(): name for name, accepted in columns.items() for alias in (name, *accepted)}
    names: list[str | None] = []
    for heading in header:
        name = aliases.get(heading.strip().lower())
        if name is None and heading.strip():
            table.problems.append(RowProblem(1, heading, f"unknown column {heading!r}; expected "
                                             f"{', '.join(columns)}", "unknown_column"))
        if name is not None and name in names:
            table.problems.append(RowProblem(1, heading, f"column {name!r} appears twice", "duplicate_column"))
        names.append(name)
    for missing in sorted(required - {n for n in names if n}):
        table.problems.append(RowProblem(1, missing, f"the required column {missing!r} is missing", "missing_column"))
    if table.problems:
        return table
    line = 1  # a spreadsheet's row number: a cell holding a line break is still one row
    try:
        for values in reader:
            line += 1
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(names):
                table.problems.append(RowProblem(line, "*", f"{len(values)} cells for {len(names)} columns",
                                                 "extra_cells"))
                continue
            row: dict[str, str] = {}
            for name, value in zip(names, values, strict=False):
                if name is None:
                    continue
                if "\0" in value:  # SQLite would store it and PostgreSQL cannot: refused on both
                    table.problems.append(RowProblem(line, name, "the cell contains the NUL character (\\u0000), "
                                                     "which cannot be imported", NUL))
                row[name] = value.strip()
            table.rows.append((line, row))
    except csv.Error as error:
        table.problems.append(RowProblem(line + 1, "*", f"not valid CSV: {error}", "csv"))
    if not table.rows and not table.problems:
        table.problems.append(RowProblem(2, "*", "the file has a header but no rows", "empty"))
    return table


def text_line(content: bytes, offset: int) -> int:
    return content[:offset].count(b"\n") + 1


def split_list(value: str) -> list[str]:
    """Cells holding several values separate them with ';' (or the Chinese enumeration comma '、')."""
    return [part.strip() for part in value.replace("、", ";").split(";") if part.strip()]
