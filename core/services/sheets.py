"""Cells a spreadsheet will not run: every CSV and XLSX the app writes goes through here.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, after a tab or
carriage return, whatever follows) as a formula. Such text gets an apostrophe in front.

A CSV file adds a second way in: Excel splits a ``.csv`` file on the *list separator of the
computer's locale*, which is ``;`` in Vietnam, not ``,``. Quoted text keeps its separators
inside the cell only where the reader agrees on the quoting: read with the other separator,
``"ok;=1+2;x"`` in the middle of a line becomes the cells ``…ok``, ``=1+2`` and ``x…``. So in
CSV text, every place where a reader splitting on ``,`` or ``;`` (or starting a line) could
start a cell gets the apostrophe too when a formula character follows (after any spaces and
double quotes): ``ok;=1+2;x`` is written ``"ok;'=1+2;x"``. Numbers are written bare, text
always quoted.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: somewhere a cell may start (the text's start, or after a separator or line break), then
#: spaces or quotes, then a formula character
_CELL_START = re.compile(r'(?:^|(?<=[,;\r\n]))([ "]*)(?=[=+\-@\t\r])')
#: text starting with none of these and without a separator or line break needs no change
_RISKY_FIRST = frozenset("".join(FORMULA_START) + ' "')


def neutralise(value: Any) -> Any:
    """A cell of its own (XLSX): text that a spreadsheet would run as a formula gets a
    leading apostrophe; anything else is returned as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_text(value: str) -> str:
    """Text for a CSV cell: an apostrophe wherever a reader splitting on ``,`` or ``;``
    could start a cell with a formula (see the module)."""
    if (value[:1] not in _RISKY_FIRST and "," not in value and ";" not in value
            and "\n" not in value and "\r" not in value):
        return value  # the usual case (codes, names, dates), without a regex
    return _CELL_START.sub(r"\1'", value)


def csv_cell(value: Any) -> Any:
    """None is empty text; numbers stay numbers; anything else is text (:func:`csv_text`)."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    return csv_text(str(value))


def write_csv(out: io.TextIOBase | io.StringIO, header: Iterable[Any],
              rows: Iterable[Iterable[Any]]) -> None:
    """Write a header and rows: text quoted and neutralised, numbers bare."""
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow([csv_cell(h) for h in header])
    # None and whole numbers (most cells of the raw responses) without a function call
    writer.writerows(["" if v is None else v if v.__class__ is int else csv_cell(v)
                      for v in row] for row in rows)


def csv_string(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> str:
    out = io.StringIO()
    write_csv(out, header, rows)
    return out.getvalue()
