"""Reading an uploaded CSV into rows with the problems of every bad cell, before anything is written.

Strict: a quote opened and never closed, a character after a closing quote, or a row with more or fewer cells
than the header refuses the file, naming the row (and the column where one applies). A lenient reader would take
the rest of the file as one cell, and import a person named ``never closed\nnext``."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field

from okr_rollout.texts import LocalizedText

# The type of a cell holding the NUL character; the API's name for the same rule in a JSON body.
NUL = "string_nul"


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int  # the line number a spreadsheet shows: the header is row 1
    column: str
    message: str
    type: str
    message_zh_tw: str | None = None  # the same in Traditional Chinese, where one is written

    def as_error(self) -> dict[str, object]:
        error: dict[str, object] = {"field": f"rows[{self.row}].{self.column}", "row": self.row,
                                    "column": self.column, "message": self.message, "type": self.type}
        if self.message_zh_tw is not None:
            error["messages"] = LocalizedText(self.message, self.message_zh_tw).as_dict()
        return error

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
    lines = io.StringIO(text, newline="").readlines()  # as the reader splits them, to point at a bad record
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        table.problems.append(RowProblem(1, "*", "the file is empty; it needs a header row", "empty",
                                         "檔案是空的;需要一列欄位名稱"))
        return table
    except csv.Error as error:
        table.problems.append(_unreadable(1, "".join(lines), None, error))
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
    read_lines = reader.line_num  # physical lines read so far: the next record starts after them
    try:
        for values in reader:
            line += 1
            read_lines = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(names):
                table.problems.append(_wrong_cell_count(line, len(values), len(names)))
                continue
            row: dict[str, str] = {}
            for name, value in zip(names, values, strict=True):
                if name is None:
                    continue
                if "\0" in value:  # SQLite would store it and PostgreSQL cannot: refused on both
                    table.problems.append(RowProblem(line, name, "the cell contains the NUL character (\\u0000), "
                                                     "which cannot be imported", NUL,
                                                     "此欄位含有 NUL 字元(\\u0000),無法匯入"))
                row[name] = value.strip()
            table.rows.append((line, row))
    except csv.Error as error:
        table.problems.append(_unreadable(line + 1, "".join(lines[read_lines:]), names, error))
    if not table.rows and not table.problems:
        table.problems.append(RowProblem(2, "*", "the file has a header but no rows", "empty",
                                         "檔案只有欄位名稱,沒有資料列"))
    return table


def _wrong_cell_count(line: int, cells: int, columns: int) -> RowProblem:
    return RowProblem(line, "*", f"{cells} cells for {columns} columns", "extra_cells" if cells > columns
                      else "missing_cells", f"此列有 {cells} 格,但檔案有 {columns} 欄")


def _unreadable(line: int, record: str, names: list[str | None] | None, error: csv.Error) -> RowProblem:
    """The problem of a record the strict reader refused: a quote never closed (the rest of the file would have
    become one cell) or a character after a closing quote, in the column where its cell starts."""
    index, unclosed = _bad_cell(record)
    column = "*"
    if index is not None:
        column = f"{index + 1}" if names is None or index >= len(names) else names[index] or f"{index + 1}"
    if unclosed:
        return RowProblem(line, column, "a quote opened in this cell is never closed", "unclosed_quote",
                          "此格的引號沒有結束")
    return RowProblem(line, column, f"not valid CSV: {error}", "csv", f"不是有效的 CSV:{error}")


def _bad_cell(record: str) -> tuple[int | None, bool]:
    """(index of the cell where ``record`` stops being CSV, whether a quote is left open there)."""
    cell, quoted, at_start, closed = 0, False, True, False
    position = 0
    while position < len(record):
        char = record[position]
        position += 1
        if quoted:
            if char == '"' and record[position:position + 1] == '"':
                position += 1  # a doubled quote stands for one
            elif char == '"':
                quoted, closed = False, True
        elif char == ",":
            cell, at_start, closed = cell + 1, True, False
        elif char in "\r\n":
            return None, False  # the record ended in good order
        elif closed:
            return cell, False  # a character after the closing quote
        elif char == '"' and at_start:
            quoted, at_start = True, False
        else:
            at_start = False
    return (cell, True) if quoted else (None, False)


def text_line(content: bytes, offset: int) -> int:
    return content[:offset].count(b"\n") + 1


def split_list(value: str) -> list[str]:
    """Cells holding several values separate them with ';' (or the Chinese enumeration comma '、')."""
    return [part.strip() for part in value.replace("、", ";").split(";") if part.strip()]
