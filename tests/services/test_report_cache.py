"""The report cache (core/services/report_cache.py): a finished report is kept until the
figures under it change, which database triggers on every table a report reads tell. Attack:
a cache that serves a report older than the data (an import, a release, a target, a rename,
a raw SQL edit, a rolled-back transaction) — or a list of source tables that misses one."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
import sqlalchemy as sa
from flask import current_app

from core.extensions import db
from core.models.figures import PDF_SOURCES, SOURCES, TRIGGERS
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
    assert _trigger_tables() == set(TRIGGERS) >= set(SOURCES)
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


def _import(instrument, month: str) -> int:
    """A paper batch of 5 answers for BD-KM in ``month``; its id."""
    from core.services.imports import import_batch
    from tests.helpers import paper_row

    lines = [",".join(["office_code", "submitted_at", *instrument.criterion_codes])]
    lines += [",".join(paper_row("BD-KM", f"{month}-0{d}", "4")) for d in range(1, 6)]
    raw = io.BytesIO(("\n".join(lines) + "\n").encode())
    outcome = import_batch(raw, "thang.csv", instrument, actor="test")
    db.session.commit()
    return outcome.batch_id


@pytest.mark.parametrize("change", ["release", "target", "dossiers", "rename", "raw_sql",
                                    "receipt", "move", "import", "undo"])
def test_any_change_under_a_report_is_seen_at_once(world, offices, instrument, change):
    from tests.admin.fixtures import make_answers

    bd, month = offices["BD"], world["month"]
    if change == "undo":
        batch = _import(instrument, month)
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
    elif change == "import":
        _import(instrument, month)
    elif change == "undo":
        from core.services.imports import undo_batch

        undo_batch(batch, actor="test")
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


# --- the report PDF ----------------------------------------------------------------------------

def _pdf(office, month):
    from core.services.pdf_report import office_report_pdf

    return office_report_pdf(office, month, "vi")


def test_the_pdf_reads_only_tables_that_renew_the_token(world, offices):
    """Everything the PDF reads carries a trigger, except the answers waiting for release,
    which the dashboard counts and the PDF does not print."""
    month = _full_month(world, offices)
    cache_for(current_app, "pdf").clear()
    cache_for(current_app).clear()
    read = _tables_read(lambda: [_pdf(offices[c], month) for c in ("BD", "BD-KM", "HN")])
    assert read - {"figures_version", "pending_answer"} == set(PDF_SOURCES)
    assert set(PDF_SOURCES) <= _trigger_tables()


def _text(pdf: bytes, tmp_path) -> str:
    import subprocess

    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_a_kept_pdf_is_served_until_the_figures_change(world, offices, instrument,
                                                        tmp_path, monkeypatch):
    from core.services import feedback, pdf_report
    from core.services.intake import clean_response
    from core.services.mixing import hold, vn_day
    from core.timeutil import utcnow

    bd, month = offices["BD"], world["month"]
    first = _pdf(bd, month)
    assert _tables_read(lambda: _pdf(bd, month)) == {"figures_version"}
    assert _pdf(bd, month) == first
    # an answer waiting for release is not in the PDF: the kept one is still right
    hold(clean_response(instrument, {c: 5 for c in instrument.criterion_codes}),
         offices["BD-KM"].id, "kiosk", vn_day(utcnow()))
    db.session.commit()
    assert _pdf(bd, month) == first
    cache_for(current_app, "pdf").clear()
    assert _text(_pdf(bd, month), tmp_path) == _text(first, tmp_path)
    # a comment tagged, then withdrawn: the themes and the comments the PDF drafts from
    u = world["users"]["city"]
    for change in (lambda: feedback.handle_comment(u, world["km_comment"], "in_progress",
                                                   None, None, themes=[]),
                   lambda: feedback.withdraw_comment(world["km_comment"], actor="test")):
        change()
        db.session.commit()
        assert "monthly_tally" in _tables_read(lambda: _pdf(bd, month))  # made afresh
        assert _tables_read(lambda: _pdf(bd, month)) == {"figures_version"}
    # the next day's PDF carries the next day's date
    tomorrow = utcnow().replace(hour=12) + __import__("datetime").timedelta(days=1)
    monkeypatch.setattr(pdf_report, "utcnow", lambda: tomorrow)
    assert "monthly_tally" in _tables_read(lambda: _pdf(bd, month))


def test_the_download_and_the_command_share_the_kept_pdf(world, offices, client, runner,
                                                          tmp_path):
    """The results area's download is the kept PDF; the command line's too when it asks
    for the same report."""
    from tests.admin.fixtures import login

    login(client, "city")
    month = world["month"]
    got = client.get(f"/admin/exports/BD/{month}/report.pdf")
    assert got.status_code == 200 and got.data.startswith(b"%PDF")
    out = tmp_path / "bd.pdf"
    result = runner.invoke(args=["report", "BD", month, "--format", "pdf", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert _text(out.read_bytes(), tmp_path) == _text(got.data, tmp_path)
    assert _pdf(offices["BD"], month) == got.data


@pytest.mark.postgres_only
def test_writers_do_not_queue_on_the_token_until_they_commit(app, backend, offices):
    """PostgreSQL: a long transaction writing the figures (an import, say) does not hold the
    token's row: another office's writer commits meanwhile, with a lock timeout that would
    fail it if it waited; the token changes at each commit, once per transaction."""
    if backend != "postgresql":
        pytest.skip("concurrent transactions are tested on PostgreSQL")
    db.session.commit()
    engine = db.engine
    with engine.connect() as long_one, engine.connect() as other:
        before = other.execute(sa.text("SELECT token FROM figures_version")).scalar()
        other.commit()
        long_one.execute(sa.text(
            "INSERT INTO dossier_volume (office_id, month, dossiers, updated_at) "
            "VALUES (:o, '2022-07', 10, now())"), {"o": offices["BD-KM"].id})
        for n in range(3):  # many rows, one renewal at the commit
            long_one.execute(sa.text("UPDATE dossier_volume SET dossiers = :n"), {"n": n})
        other.execute(sa.text("SET LOCAL lock_timeout = '1s'"))
        other.execute(sa.text(
            "INSERT INTO dossier_volume (office_id, month, dossiers, updated_at) "
            "VALUES (:o, '2022-07', 20, now())"), {"o": offices["STP"].id})
        other.commit()  # did not wait for the long transaction
        middle = other.execute(sa.text("SELECT token FROM figures_version")).scalar()
        other.commit()
        long_one.commit()
        after = other.execute(sa.text("SELECT token FROM figures_version")).scalar()
    assert len({before, middle, after}) == 3
