"""CSV and XLSX cells a spreadsheet will not run, however Excel splits the file: on ``,`` or,
in a Vietnamese locale, on ``;``."""

from __future__ import annotations

import csv
import io

import pytest

from core.services.sheets import csv_string, csv_text, neutralise
from tests.helpers import assert_csv_safe

PAYLOADS = ["ok;=1+2;x", "=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1",
            '=HYPERLINK("http://evil.example","x")', "a,=1+2", 'x;"=1+2"', "x; =cmd|' /C calc'!A0",
            "Tốt\n=1+2", "Tốt\r\n@SUM(A1)", "a;;-2+3", 'a;" "+1', "ok,@x;=y", "\r\r=1",
            "Cán bộ; -nhiệt tình", '"', ";", "=", "x;\t=1"]


def test_the_attack_splits_into_a_formula_without_the_fix():
    """Written as a plain csv.writer writes it, ``ok;=1+2;x`` opens as three cells, one of
    them ``=1+2``, in a Vietnamese Excel (the check below would have caught it)."""
    out = io.StringIO()
    csv.writer(out).writerow(["BD-KM", "ok;=1+2;x", 3])
    assert out.getvalue() == "BD-KM,ok;=1+2;x,3\r\n"
    with pytest.raises(AssertionError):
        assert_csv_safe(out.getvalue())


@pytest.mark.parametrize("payload", PAYLOADS)
def test_text_is_safe_split_on_commas_and_on_semicolons(payload):
    text = csv_string(["Mã", payload, "Chỉ số"],
                      [["BD-KM", payload, 3, -2.5, payload, None, "x"], [payload]])
    assert_csv_safe(text)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    # read as written (commas), each cell is the text with its apostrophes, nothing more
    assert rows[1][1] == rows[1][4] == rows[2][0] == csv_text(payload)
    assert csv_text(payload).replace("'", "") == payload.replace("'", "")
    assert rows[1][2:4] == ["3", "-2.5"] and rows[1][5] == ""


def test_text_is_quoted_and_numbers_are_bare():
    from decimal import Decimal

    assert csv_string(["a", "b"], [["ok;=1+2;x", 5, 2.5, Decimal("87.1100"), None, True]]) \
        == '"a","b"\r\n"ok;\'=1+2;x",5,2.5,87.1100,"","True"\r\n'
    assert csv_text("Cán bộ tận tình") == "Cán bộ tận tình"


def test_neutralise_a_cell_of_its_own():
    for bad in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(bad) == "'" + bad
    assert neutralise("Tốt") == "Tốt" and neutralise(5) == 5 and neutralise(None) is None
    assert neutralise("ok;=1+2") == "ok;=1+2"  # an XLSX cell is never split
