"""The report cache (core/services/report_cache.py): a finished report is kept until the
figures under it change, which database triggers on every table a report reads tell. Attack:
a cache that serves a report older than the data (an import, a release, a target, a rename,
a raw SQL edit, a rolled-back transaction) — or a list of source tables that misses one."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
from flask import current_app

from core.extensions import db
from core.models.figures import SOURCES
from core.services.report_cache import cache_for, current_token
from core.services.reports import monthly_report, period_report
from core.timeutil import shift_month


def _trigger_tables() -> set[str]:
    """The tables that carry a figures_version trigger, read from the database itself."""
    if db.engine.dialect.name == "postgresql":
        rows = db.session.execute(sa.text(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND t.tgname LIKE 'figures_version_%'"))
    else:
        rows = db.session.execute(sa.text(
            "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND "
            "name LIKE 'figures_version_%'"))
    return {r[0] for r in rows}


def _tables_read(fn) -> set[str]:
    """The tables named after FROM or JOIN in the SQL sent while ``fn`` runs."""
    names = set(db.metadata.tables)
    seen: set[str] = set()

    def capture(conn, cursor, statement, params, context, executemany):
        for name in re.findall(r'\b(?:FROM|JOIN)\s+"?(\w+)"?', statement):
            if name in names:
                seen.add(name)

    sa.event.listen(db.engine, "before_cursor_execute", capture)
    try:
        fn()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", capture)
    return seen


def _full_month(world, offices) -> str:
    """The world's month, with a dossier volume, a target and a receipt minted in it."""
    from core.services.dossiers import set_dossiers
    from core.services.receipts import mint_receipt
    from core.services.targets import set_target

    month = world["month"]
    set_dossiers(offices["BD-KM"], month, 120, actor="test")
    set_target(offices["BD"], int(month[:4]), "overall", 80.0, actor="test")
    mint_receipt(offices["BD-KM"], "000.00.20.H26-221128-00001")
    db.session.commit()
    return month


def test_every_table_a_report_reads_renews_the_token(world, offices):
    """The source list is exactly what a report reads (with every branch taken: dossiers,
    targets, receipts, partial answers), and the database has a trigger on each."""
    month = _full_month(world, offices)
    this_month = date.today().strftime("%Y-%m")
    cache_for(current_app).clear()

    def reports():
        for office in (offices["BD"], offices["BD-KM"], offices["HN"]):
            for m in (month, this_month):
                monthly_report(office, m)

    read = _tables_read(reports)
    assert read - {"figures_version"} == set(SOURCES)
    assert _trigger_tables() == set(SOURCES)
    # adding the partial answers themselves reads the answers, which carry no trigger (the
    # kiosk's write path): that report is never kept, made afresh each time
    for _ in range(2):
        partial = _tables_read(lambda: monthly_report(offices["BD"], month,
                                                      include_partial=True))
        assert "response" in partial and "monthly_tally" in partial


def test_a_kept_report_costs_one_query_and_equals_a_fresh_one(world, offices):
    bd, month = offices["BD"], world["month"]
    cache = cache_for(current_app)
    cache.clear()
    fresh = monthly_report(bd, month)
    fresh["overall"] = -1.0  # what a caller does with its copy stays with it
    read = _tables_read(lambda: monthly_report(bd, month))
    assert read == {"figures_version"}
    kept = monthly_report(bd, month)
    assert kept["overall"] != -1.0
    cache.clear()
    assert kept == monthly_report(bd, month)
    # the key holds the locale and the office: no report answers for another
    assert monthly_report(bd, month, locale="en")["criteria"][0]["text"] != \
        kept["criteria"][0]["text"]
    assert monthly_report(offices["STP"], month)["responses"] == 12


@pytest.mark.parametrize("change", ["release", "target", "dossiers", "rename", "raw_sql",
                                    "receipt", "move"])
def test_any_change_under_a_report_is_seen_at_once(world, offices, instrument, change):
    from tests.admin.fixtures import make_answers

    bd, month = offices["BD"], world["month"]
    before = monthly_report(bd, month)
    assert monthly_report(bd, month) == before  # kept
    token = current_token()
    if change == "release":
        make_answers(instrument, offices["BD-KM"], month, 3, 0)
    elif change == "target":
        from core.services.targets import set_target

        set_target(bd, int(month[:4]), "overall", 99.0, actor="test")
    elif change == "dossiers":
        from core.services.dossiers import set_dossiers

        set_dossiers(offices["BD-DB"], month, 50, actor="test")
    elif change == "rename":
        bd.name = "UBND quận Ba Đình (mới)"
    elif change == "raw_sql":
        db.session.execute(sa.text("UPDATE monthly_tally SET n5 = n5 + 7 WHERE criterion = "
                                   "'I.1' AND month = :m"), {"m": month})
    elif change == "receipt":
        from core.services.receipts import mint_receipt

        for i in range(40):
            mint_receipt(offices["BD-KM"], f"000.00.20.H26-221128-{i:05d}")
        month = date.today().strftime("%Y-%m")
        before = monthly_report(bd, month)
    elif change == "move":
        from core.services.office_admin import move_office

        move_office(offices["BD-DB"], offices["HN"], actor="test")
    db.session.commit()
    assert current_token() != token
    after = monthly_report(bd, month)
    cache_for(current_app).clear()
    assert after == monthly_report(bd, month)  # what the cache gave is what is true now
    if change != "receipt":
        assert after != before


def test_a_rolled_back_change_leaves_no_report_behind(world, offices):
    """A report made inside a transaction that is then rolled back is kept under a token no
    later writer can draw again: after the rollback, and after a different committed change,
    the reports are those of the committed data."""
    bd, month = offices["BD"], world["month"]
    before = monthly_report(bd, month)
    db.session.execute(sa.text("UPDATE monthly_tally SET n1 = n1 + 100 WHERE month = :m"),
                       {"m": month})
    inside = monthly_report(bd, month)
    assert inside != before
    db.session.rollback()
    assert monthly_report(bd, month) == before
    db.session.execute(sa.text("UPDATE monthly_tally SET n2 = n2 + 3 WHERE month = :m"),
                       {"m": month})
    db.session.commit()
    after = monthly_report(bd, month)
    cache_for(current_app).clear()
    assert after == monthly_report(bd, month) != inside


def test_settings_are_part_of_the_key(world, offices):
    bd, month = offices["BD"], world["month"]
    low = monthly_report(bd, month)
    current_app.config["MIN_SAMPLE"] = 1000
    assert monthly_report(bd, month)["low_sample"] is True
    assert low["low_sample"] is False


def test_periods_are_kept_apart(world, offices):
    bd, month = offices["BD"], world["month"]
    quarter = period_report(bd, f"{month[:4]}-Q{(int(month[5:]) - 1) // 3 + 1}")
    one = period_report(bd, month)
    previous = period_report(bd, shift_month(month, -1))
    assert one["responses"] == 40 and previous["responses"] == 0
    assert quarter["months"] != one["months"]


def test_no_cache_when_turned_off(make_app):
    app = make_app(REPORT_CACHE_SIZE=0)
    with app.app_context():
        assert cache_for(app) is None


def test_no_cache_without_the_token_row(world, offices):
    """A database emptied by hand (the token row gone): reports are made afresh, never
    kept under a token nobody renews."""
    db.session.execute(sa.text("DELETE FROM figures_version"))
    db.session.commit()
    assert current_token() is None
    cache = cache_for(current_app)
    cache.clear()
    monthly_report(offices["BD"], world["month"])
    assert len(cache) == 0
