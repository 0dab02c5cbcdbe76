"""Downloads as data: the criterion table follows the dashboard; raw responses carry the
date only and no identifiers; spreadsheet formulas are neutralised."""

from __future__ import annotations

from core.services.exports import neutralise


def test_neutralise():
    for bad in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(bad) == "'" + bad
    assert neutralise("Tốt") == "Tốt" and neutralise(5) == 5 and neutralise(None) is None
