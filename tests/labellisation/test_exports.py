"""Tables for spreadsheets (labellisation/exports.py): the French CSV conventions, the XLSX read back with openpyxl,
and a formula typed as a school's name kept as text in both."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from openpyxl import load_workbook

from labellisation.exports import Column, Kind, Table, csv_bytes, guarded, xlsx_bytes

COLUMNS = [
    Column("École"),
    Column("Projets", Kind.INTEGER),
    Column("Demandes de modifications par projet", Kind.DECIMAL),
    Column("Dans les délais (%)", Kind.PERCENT),
    Column("Ouverture", Kind.DATE),
    Column("En retard"),
]
HOSTILE = '=HYPERLINK("https://pirate.example";"Cliquez")'


def table() -> Table:
    return Table(
        "Étapes : essai/1",
        COLUMNS,
        [
            ["Étude d'opportunité", 3, 3.0, 0.933, date(2027, 9, 1), True],
            [HOSTILE, 1, 0.25, None, datetime(2027, 3, 31, 22, 30, tzinfo=UTC), False],  # 1 April in Paris
            ["École « Lyon »; Villeurbanne", 0, None, 1.0, None, None],
        ],
    )


def test_the_csv_is_for_a_french_spreadsheet() -> None:
    content = csv_bytes(table())
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel reads the accents
    text = content.decode("utf-8-sig")
    assert text.endswith("\r\n") and text.count("\r\n") == 4 and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")
    assert lines[0] == "École;Projets;Demandes de modifications par projet;Dans les délais (%);Ouverture;En retard"
    assert lines[1] == "Étude d'opportunité;3;3,0;93,3;01/09/2027;oui"
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[2] == ["'" + HOSTILE, "1", "0,3", "", "01/04/2027", "non"]  # the formula kept as text
    assert rows[3] == ["École « Lyon »; Villeurbanne", "0", "", "100,0", "", ""]  # `;` inside a cell: quoted


def test_every_formula_start_gets_an_apostrophe_and_nothing_else() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert guarded(f"{start}1+2") == f"'{start}1+2"
    assert guarded("École de Production") == "École de Production"
    assert guarded("— rien") == "— rien"
    negative = Table("t", [Column("Écart", Kind.DECIMAL, decimals=2)], [[-1.5], [2]])
    assert csv_bytes(negative).decode("utf-8-sig").split("\r\n")[1:3] == ["-1,50", "2,00"]  # numbers: no guard


def test_the_xlsx_holds_numbers_with_their_formats_a_bold_frozen_header_and_french_sheet_names() -> None:
    book = load_workbook(io.BytesIO(xlsx_bytes(table(), Table("Entonnoir", [Column("Phase")], [["Opportunité"]]))))
    assert book.sheetnames == ["Étapes - essai-1", "Entonnoir"]
    sheet = book["Étapes - essai-1"]
    assert [c.value for c in sheet[1]] == [c.header for c in COLUMNS]
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "B2"
    assert sheet.auto_filter.ref == "A1:F4"
    name, projects, changes, on_time, opening, late = sheet[2]
    assert (projects.value, projects.number_format) == (3, "0")
    assert (changes.value, changes.number_format) == (3.0, "0.0")
    assert isinstance(on_time.value, float) and on_time.value == 0.933 and on_time.number_format == "0.0%"
    assert opening.value == datetime(2027, 9, 1) and opening.number_format == "dd/mm/yyyy" and opening.is_date
    assert late.value == "oui" and name.value == "Étude d'opportunité"
    hostile = sheet["A3"]
    assert hostile.value == "'" + HOSTILE and hostile.data_type == "s"  # text, not a formula
    assert sheet["E3"].value == datetime(2027, 4, 1)  # the day in Paris
    assert sheet["D3"].value is None and sheet["C4"].value is None  # no figure: an empty cell
    assert sheet.column_dimensions["A"].width >= len(HOSTILE)
    assert 10 <= sheet.column_dimensions["C"].width <= 26  # a long header wraps instead of widening
    assert book["Entonnoir"]["A2"].value == "Opportunité"
