"""The office tree's history and letter case: merges pool the merged office's tallies into
the survivor's reports; codes are matched whatever their case, and the migration that makes
them unique so stops when existing codes collide; tablets' status and opening hours; the
commands' links, progress bars and Vietnamese output."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import Office, OfficeChange
from core.services import kiosks, office_admin
from core.services.offices import get_office
from core.timeutil import VN_TZ, last_complete_month
from tests.admin.fixtures import make_responses
from tests.core.test_migrations import migrated_app  # noqa: F401 - a fixture


def _report(runner, code: str, month: str) -> dict:
    result = runner.invoke(args=["report", code, month])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_a_merged_office_history_counts_in_the_survivor_reports(app, runner, offices,
                                                                instrument):
    month = last_complete_month()
    make_responses(instrument, offices["BD-KM"], month, 6, sat=5)
    make_responses(instrument, offices["BD-DB"], month, 4, sat=2)
    before = {code: _report(runner, code, month)["responses"] for code in ("BD-KM", "BD", "HN")}
    assert before == {"BD-KM": 6, "BD": 10, "HN": 10}

    result = runner.invoke(args=["offices", "merge", "BD-DB", "BD-KM", "--on", "2025-07-01"])
    assert result.exit_code == 0, result.output

    after = _report(runner, "BD-KM", month)
    assert after["responses"] == 10  # the merged office's month, from the tallies
    assert _report(runner, "BD", month)["responses"] == 10  # pooled once, not twice
    assert _report(runner, "HN", month)["responses"] == 10
    merged = get_office("BD-DB")
    assert not merged.active and merged.parent.code == "BD-KM"
    change = db.session.scalar(sa.select(OfficeChange).where(OfficeChange.kind == "merge"))
    assert (change.office_id, change.into_id, change.effective_on) == (
        merged.id, offices["BD-KM"].id, date(2025, 7, 1))
    # the merged office collects nothing any more
    kiosk = runner.invoke(args=["kiosks", "add", "BD-DB", "Quầy 1"])
    assert kiosk.exit_code == 1


def test_merge_and_move_refuse_cycles_and_future_days(app, runner, offices):
    for args in (["offices", "merge", "BD", "BD-KM"], ["offices", "move", "BD", "BD-KM"],
                 ["offices", "merge", "BD", "BD"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1 and result.output.startswith("Lỗi: "), result.output
    tomorrow = (datetime.now(VN_TZ).date() + timedelta(days=2)).isoformat()
    result = runner.invoke(args=["offices", "move", "BD-KM", "STP", "--on", tomorrow])
    assert result.exit_code == 1
    assert get_office("BD-KM").parent.code == "BD"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OfficeChange)) == 0


def test_codes_are_matched_whatever_their_letter_case(app, client, runner, offices,
                                                      tmp_path):
    assert get_office("bd-km").code == "BD-KM"
    path = tmp_path / "o.csv"
    path.write_text("code,name,parent_code,level\nbd-km,UBND phường Kim Mã mới,bd,commune\n",
                    encoding="utf-8")
    result = runner.invoke(args=["offices", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Office)) == 5  # updated
    assert get_office("BD-KM").name == "UBND phường Kim Mã mới"
    # two lines naming one office in different cases: a bad line
    path.write_text("code,name,parent_code,level\nX1,A,HN,department\nx1,B,HN,department\n",
                    encoding="utf-8")
    result = runner.invoke(args=["offices", "import", str(path)])
    assert result.exit_code == 1 and "x1" in result.output
    # the database refuses two codes differing only by case
    db.session.add(Office(code="stp", name="x", level="department"))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert client.get("/o/bd-km").status_code in (200, 302)


def _revision_before_the_case_insensitive_codes() -> str:
    """The revision the office-history migration follows (whatever it is re-chained after)."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    [path] = (root / "migrations" / "versions").glob("*_f1b0002909de_*.py")
    spec = importlib.util.spec_from_file_location("office_history_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.down_revision


@pytest.mark.usefixtures("migrated_app")
def test_the_migration_stops_when_codes_collide_by_case():
    from flask_migrate import upgrade

    before = _revision_before_the_case_insensitive_codes()
    upgrade(revision=before)
    with db.engine.begin() as conn:
        for code in ("Q1", "q1", "HN"):
            conn.execute(sa.text(
                "INSERT INTO office (code, name, level, active, created_at) "
                "VALUES (:c, 'x', 'commune', true, CURRENT_TIMESTAMP)"), {"c": code})
    with pytest.raises(SystemExit) as stopped:
        upgrade()
    assert "Q1, q1" in str(stopped.value) and "Nothing was changed" in str(stopped.value)
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")
                            ).scalar() == before
        conn.execute(sa.text("UPDATE office SET code = 'Q2' WHERE code = 'q1'"))
        conn.commit()
    upgrade()


def test_tablet_status_and_opening_hours(app, offices):
    new = kiosks.add_kiosk(offices["BD-KM"], "Quầy 1", with_credential=True, actor="test")
    kiosk = db.session.get(kiosks.Kiosk, new.kiosk.id)
    kiosks.set_opening_hours(offices["BD-KM"], "07:30-11:30,13:30-17:00", "12345",
                             actor="test")
    monday_9 = datetime(2026, 11, 30, 9, 0, tzinfo=VN_TZ)
    sunday_9 = datetime(2026, 11, 29, 9, 0, tzinfo=VN_TZ)
    assert kiosks.is_open(offices["BD-KM"], monday_9)
    assert not kiosks.is_open(offices["BD-KM"], sunday_9)
    assert not kiosks.is_open(offices["BD-KM"], monday_9.replace(hour=12))
    kiosk.last_seen_at = monday_9 - timedelta(minutes=1)
    db.session.commit()
    info = kiosks.KioskInfo.of(kiosk)
    assert kiosks.is_online(info, monday_9)
    assert kiosks.offline_while_open(None, monday_9) == []
    later = monday_9 + timedelta(hours=1)
    assert not kiosks.is_online(info, later)
    assert [k.id for k in kiosks.offline_while_open(None, later)] == [kiosk.id]
    assert kiosks.offline_while_open(None, sunday_9 + timedelta(hours=1)) == []
    with pytest.raises(kiosks.ValidationFailed):
        kiosks.set_opening_hours(offices["BD-KM"], "11:30-07:30", "12345", actor="test")
    with pytest.raises(kiosks.ValidationFailed):
        kiosks.set_opening_hours(offices["BD-KM"], "7h-11h", "12345", actor="test")


def test_links_use_public_base_url_else_the_served_port(app, runner, offices, monkeypatch):
    monkeypatch.setenv("PORT", "8123")
    app.config["PUBLIC_BASE_URL"] = None
    result = runner.invoke(args=["kiosks", "add", "BD-KM", "Quầy 2"])
    assert result.output.strip().splitlines()[-1].startswith(
        "http://127.0.0.1:8123/kiosk/activate/")
    assert "Mở liên kết này" in result.output  # Vietnamese output
    result = runner.invoke(args=["receipts", "mint", "BD-KM", "HS-2026-0001"])
    assert result.output.strip().splitlines()[-1].startswith("http://127.0.0.1:8123/s/")
    app.config["PUBLIC_BASE_URL"] = "https://dgsh.hanoi.gov.vn"
    result = runner.invoke(args=["kiosks", "add", "BD-KM", "Quầy 3"])
    assert result.output.strip().splitlines()[-1].startswith(
        "https://dgsh.hanoi.gov.vn/kiosk/activate/")


def test_progress_bar_only_on_a_terminal(capsys):
    from core.progress import progress

    with progress(3, "x") as step:
        for _ in range(3):
            step(1)
    assert capsys.readouterr().err == ""  # piped (pytest captures): quiet
    with progress(3, "Đang tính", force=True) as step:
        for _ in range(3):
            step(1)
    assert "Đang tính" in capsys.readouterr().err


def test_long_commands_stay_quiet_when_piped(app, runner, offices, instrument):
    make_responses(instrument, offices["BD-KM"], last_complete_month(), 3)
    result = runner.invoke(args=["tallies", "rebuild"])
    assert result.exit_code == 0
    assert result.output.strip().count("\n") == 0  # one line: the result, no bar


def test_export_reads_back_unchanged(app, runner, offices):
    text = office_admin.export_csv()
    assert text.splitlines()[0] == ",".join(office_admin.EXPORT_COLUMNS)
    assert len(text.splitlines()) == 6
