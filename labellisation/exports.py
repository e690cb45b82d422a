"""Tables for spreadsheets (#19 item 6): the same rows as a French CSV file or an XLSX workbook.

Pure: a `Table` (French headers, a kind per column, rows of plain values) becomes bytes; the pages choose the rows
(labellisation/web/exports.py, labellisation/web/portfolio.py).

CSV follows what a French spreadsheet opens without an import dialog: UTF-8 with a BOM (Excel reads the accents),
`;` between cells, CRLF line ends, a decimal comma (`3,0`), dates as JJ/MM/AAAA, percentages as decimal-comma
numbers in points (`93,3` under a header that says `(%)`), so that they stay numbers a formula can use; an empty
cell where there is no figure. XLSX holds real numbers and dates with their formats (`0.0`, `0.0%` over the
fraction 0.933, `dd/mm/yyyy`), a bold header row, the header row and the first column frozen, a filter on the
header, column widths to fit, and French sheet names.

Text people typed (a school's name) may start with `=`, `+`, `-` or `@`, which a spreadsheet would run as a formula
(CSV injection): such a cell gets a leading apostrophe, in both formats, and XLSX writes every text cell as text,
never as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from labellisation.french_calendar import PARIS

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: A text cell starting with one of these is read as a formula by spreadsheets (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Column widths in XLSX, in characters: a long header wraps rather than widen its column past HEADER_WIDTH.
MIN_WIDTH, HEADER_WIDTH, MAX_WIDTH = 8, 22, 60

Cell = str | int | float | bool | date | None


class Kind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    #: A fraction (0.933): `93,3` in CSV, 0.933 shown `93,3 %` in XLSX.
    PERCENT = "percent"
    DATE = "date"


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind = Kind.TEXT
    #: Decimals shown for DECIMAL and PERCENT (of the percentage).
    decimals: int = 1


@dataclass(frozen=True)
class Table:
    #: The sheet's name in XLSX (French, cut to Excel's 31 characters).
    title: str
    columns: Sequence[Column]
    rows: list[list[Cell]] = field(default_factory=list)


def guarded(text: str) -> str:
    """`text`, with a leading apostrophe when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _day(value: date) -> date:
    """A date as the French read it: a moment is the day it was in Paris."""
    return value.astimezone(ZoneInfo(PARIS)).date() if isinstance(value, datetime) else value


def _decimal(value: float | Decimal, decimals: int) -> str:
    """Rounded half up, as a spreadsheet shows it (0,25 → 0,3), with a decimal comma."""
    exact = value if isinstance(value, Decimal) else Decimal(repr(value))
    rounded = exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return f"{abs(rounded) if rounded == 0 else rounded}".replace(".", ",")  # never « -0,0 »


def _csv_cell(value: Cell, column: Column) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if column.kind is Kind.TEXT or isinstance(value, str):
        return guarded(str(value))
    if isinstance(value, date):
        return f"{_day(value):%d/%m/%Y}"
    if column.kind is Kind.INTEGER:
        return str(round(value))
    if column.kind is Kind.PERCENT:
        return _decimal(Decimal(repr(value)) * 100, column.decimals)
    return _decimal(value, column.decimals)


def csv_bytes(table: Table) -> bytes:
    """The table for a French spreadsheet: UTF-8 with BOM, `;`, CRLF, decimal comma, JJ/MM/AAAA."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([column.header for column in table.columns])
    for row in table.rows:
        writer.writerow([_csv_cell(value, column) for value, column in zip(row, table.columns, strict=True)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _number_format(column: Column) -> str:
    places = "." + "0" * column.decimals if column.decimals > 0 else ""
    return {
        Kind.INTEGER: "0",
        Kind.DECIMAL: "0" + places,
        Kind.PERCENT: "0" + places + "%",
        Kind.DATE: "dd/mm/yyyy",
    }.get(column.kind, "General")


def _sheet_title(title: str) -> str:
    """Excel's rules for a sheet's name: 31 characters, none of []:*?/\\."""
    return "".join("-" if c in "[]:*?/\\" else c for c in title)[:31] or "Feuille"


def _shown_width(value: Cell, column: Column) -> int:
    return len(_csv_cell(value, column)) + (2 if column.kind is Kind.PERCENT else 0)


def xlsx_bytes(*tables: Table) -> bytes:
    """A workbook, one sheet per table, numbers and dates as such with their formats."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    bold, wrapped = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    for table in tables:
        sheet = book.create_sheet(_sheet_title(table.title))
        for index, column in enumerate(table.columns, start=1):
            header = sheet.cell(row=1, column=index, value=column.header)
            header.font, header.alignment = bold, wrapped
        for row_number, row in enumerate(table.rows, start=2):
            for index, (value, column) in enumerate(zip(row, table.columns, strict=True), start=1):
                cell = sheet.cell(row=row_number, column=index)
                if value is None:
                    continue
                if isinstance(value, bool):
                    cell.value = "oui" if value else "non"
                elif column.kind is Kind.TEXT or isinstance(value, str):
                    cell.value = guarded(ILLEGAL_CHARACTERS_RE.sub("", str(value)))
                    cell.data_type = "s"  # text, never a formula, whatever it starts with
                elif isinstance(value, date):
                    cell.value = _day(value)
                else:
                    cell.value = value
                cell.number_format = _number_format(column)
        for index, column in enumerate(table.columns, start=1):
            widest = max([_shown_width(row[index - 1], column) for row in table.rows] or [0])
            width = max(MIN_WIDTH, min(len(column.header), HEADER_WIDTH), min(widest, MAX_WIDTH)) + 2
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "B2"  # the header row and the first column (the name) stay in sight
        last = get_column_letter(max(len(table.columns), 1))
        sheet.auto_filter.ref = f"A1:{last}{len(table.rows) + 1}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def attachment(filename: str) -> str:
    """The `Content-Disposition` of a download (`filename` is ASCII: our own slugs and dates)."""
    return f'attachment; filename="{filename}"'
