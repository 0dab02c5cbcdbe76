"""Paper-survey import through the CLI: figures, Vietnam months, all-or-nothing, idempotency."""

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import MonthlyTally, Response
from core.services.mixing import day_start, vn_day
from core.timeutil import utcnow
from tests.helpers import CODES, paper_row, write_csv

HEADER = ["office_code", "submitted_at", *CODES]


def count(model=Response):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def report(runner, office, month):
    result = runner.invoke(args=["report", office, month])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_import_then_report_pools_descendants(app, runner, offices, tmp_path):
    rows = [
        paper_row("BD-KM", "2022-07-05", "5"),
        paper_row("BD-KM", "2022-07-06T09:15:00", "4"),
        paper_row("BD-DB", "2022-07-07", "2"),
        paper_row("STP", "2022-07-08", "1"),
        paper_row("BD", "2022-07-09", ["3"] * 20 + ["", "", "", ""]),
    ]
    path = write_csv(tmp_path / "paper.csv", HEADER, rows)
    result = runner.invoke(args=["responses", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "lưu 5 phiếu" in result.output
    assert count() == 5

    bd = report(runner, "BD", "2022-07")
    assert bd["responses"] == 4 and bd["channels"] == {"paper": 4}
    i1 = next(c for c in bd["criteria"] if c["code"] == "I.1")
    assert i1["counts"] == {"1": 0, "2": 1, "3": 1, "4": 1, "5": 1}
    assert i1["answered"] == 4 and i1["satisfied"] == 2 and i1["no_answer"] == 0
    assert i1["index"] == pytest.approx(50.0)
    v1 = next(c for c in bd["criteria"] if c["code"] == "V.1")
    assert v1["answered"] == 3 and v1["no_answer"] == 1
    assert v1["index"] == pytest.approx(200 / 3)
    assert bd["overall"] == pytest.approx((50.0 * 4 + 200 / 3) / 5)

    hn = report(runner, "HN", "2022-07")
    assert hn["responses"] == 5
    assert next(c for c in hn["criteria"] if c["code"] == "I.1")["index"] == pytest.approx(40.0)
    km = report(runner, "BD-KM", "2022-07")
    assert km["responses"] == 2 and km["overall"] == 100.0
    assert report(runner, "STP", "2022-06")["overall"] is None


def test_month_follows_vietnam_time(app, runner, offices, tmp_path):
    rows = [paper_row("STP", "2022-07-31T23:30:00", "5"),      # Vietnam time: July
            paper_row("STP", "2022-07-31T18:00:00Z", "1"),     # = 01:00 on 1 August in Vietnam
            paper_row("STP", "2022-08-01T06:00:00+07:00", "1")]
    runner.invoke(args=["responses", "import", str(write_csv(tmp_path / "t.csv", HEADER, rows))])
    assert report(runner, "STP", "2022-07")["responses"] == 1
    assert report(runner, "STP", "2022-08")["responses"] == 2


def test_one_bad_row_rejects_the_file_and_lists_every_bad_line(app, runner, offices, tmp_path):
    rows = [
        paper_row("STP", "2022-07-05", "5"),
        paper_row("XYZ", "2022-07-05", "5"),                      # line 3: unknown office
        paper_row("STP", "2022-07-05", ["0"] + ["4"] * 23),      # line 4: score 0
        paper_row("STP", "2022-07-05", ["6"] + ["4"] * 23),      # line 5: score 6
        paper_row("STP", "2022-07-05", ["tốt"] + ["4"] * 23),    # line 6: text
        paper_row("STP", "05/07/2022", "4"),                      # line 7: bad date
        paper_row("STP", "2022-07-05", ""),                       # line 8: nothing answered
    ]
    path = write_csv(tmp_path / "bad.csv", HEADER, rows)
    result = runner.invoke(args=["responses", "import", str(path)])
    assert result.exit_code == 1
    out = result.output
    for line in (3, 4, 5, 6, 7, 8):
        assert f"dòng {line}:" in out, (line, out)
    assert "dòng 2:" not in out
    assert "XYZ" in out and "05/07/2022" in out
    for line in (4, 5, 6):  # the same rule, message and field key as every other channel
        assert f"dòng {line}: answers.I.1: phải là một mức từ 1 đến 5" in out, out
    assert "dòng 8: answers: cần trả lời ít nhất một tiêu chí" in out
    assert "không có gì được lưu" in out
    assert count() == 0 and count(MonthlyTally) == 0


def test_unknown_column_rejects_the_file(app, runner, offices, tmp_path):
    path = write_csv(tmp_path / "col.csv", [*HEADER, "VI.1"], [[*paper_row("STP", "2022-07-05",
                                                                            "5"), "3"]])
    result = runner.invoke(args=["responses", "import", str(path)])
    assert result.exit_code == 1 and "VI.1" in result.output
    assert count() == 0


def test_reimporting_the_same_file_stores_it_once(app, runner, offices, tmp_path):
    path = write_csv(tmp_path / "p.csv", HEADER,
                     [paper_row("STP", "2022-07-05", "5") for _ in range(3)])
    first = runner.invoke(args=["responses", "import", str(path)])
    second = runner.invoke(args=["responses", "import", str(path)])
    assert first.exit_code == second.exit_code == 0
    assert "3 dòng này đã được lưu, là đợt nhập 1; không lưu gì thêm." in second.output
    assert first.output.splitlines()[-1] == second.output.splitlines()[-1] == "1"
    assert count() == 3
    assert report(runner, "STP", "2022-07")["responses"] == 3


def test_channel_and_comment_columns(app, runner, offices, tmp_path):
    path = write_csv(tmp_path / "c.csv", [*HEADER, "channel", "comment"],
                     [[*paper_row("STP", "2022-07-05", "4"), "kiosk", "Phục vụ tốt"],
                      [*paper_row("STP", "2022-07-06", "4"), "", ""]])
    assert runner.invoke(args=["responses", "import", str(path)]).exit_code == 0
    assert report(runner, "STP", "2022-07")["channels"] == {"kiosk": 1, "paper": 1}
    stored = db.session.scalar(sa.select(Response).where(Response.channel == "kiosk"))
    assert stored.comment == "Phục vụ tốt"
    # only the Vietnam day is kept (00:00 at UTC+7), read back as an aware UTC datetime
    assert stored.submitted_at == datetime(2022, 7, 4, 17, 0, tzinfo=UTC)
    assert stored.received_at.tzinfo is not None and stored.counted is True
    assert stored.received_at == day_start(vn_day(utcnow()))  # the day of the import


def test_second_instrument_imports_and_reports_without_code_changes(make_app, tmp_path):
    from pathlib import Path

    fixtures = Path(__file__).parents[1] / "fixtures" / "instruments"
    app = make_app(INSTRUMENT_DIRS=[str(fixtures)])
    runner = app.test_cli_runner()
    offices = write_csv(tmp_path / "o.csv", ["code", "name", "parent_code", "level"],
                        [["X", "Xã Thử", "", "commune"]])
    assert runner.invoke(args=["offices", "import", str(offices)]).exit_code == 0
    path = write_csv(tmp_path / "m.csv", ["office_code", "submitted_at", "A.1", "A.2", "B.1"],
                     [["X", "2024-03-02", "5", "2", ""], ["X", "2024-03-03", "4", "", "1"]])
    result = runner.invoke(args=["responses", "import", str(path), "--instrument", "mini-2024"])
    assert result.exit_code == 0, result.output
    out = runner.invoke(args=["report", "X", "2024-03"])
    data = json.loads(out.output)
    assert data["instrument"] == "mini-2024"
    assert [d["code"] for d in data["dimensions"]] == ["A", "B"]
    dims = {d["code"]: d["index"] for d in data["dimensions"]}
    assert dims == {"A": pytest.approx(50.0), "B": 0.0}   # A.1 100 %, A.2 0 %; B.1 0 %
    assert data["overall"] == pytest.approx(25.0)
    with app.app_context():
        assert db.session.scalar(sa.select(Response.answers).limit(1)) in ("520", "401")


ID_HEADER = [*HEADER, "comment", "id"]
ID_A, ID_B = "3f1c2a4e-8b9d-4c1e-9f00-1a2b3c4d5e6f", "0b6f1f8e-2d7a-4c55-8a1e-6e1d2c3b4a59"


def test_hostile_rows_are_line_errors_in_the_usual_list(app, runner, offices, tmp_path):
    """Each of these was stored unreadable or ended the import with a traceback (that printed
    the comments): a year-1 date (SQLite cannot read it back), a time past year 9999 in UTC
    (OverflowError), the same id twice (IntegrityError), a NUL in a comment (PostgreSQL's
    DataError). Now each is one line error, and nothing is stored."""
    rows = [
        [*paper_row("STP", "2022-07-05", "5"), "", ID_A],
        [*paper_row("STP", "0001-01-01", "5"), "", ""],                         # line 3
        [*paper_row("STP", "0001-01-01T00:00:00", "5"), "", ""],                # line 4
        [*paper_row("STP", "9999-12-31T23:00:00-14:00", "5"), "", ""],          # line 5
        [*paper_row("STP", "2022-07-06", "5"), "", ID_A.upper()],               # line 6
        [*paper_row("STP", "2022-07-07", "5"), "Tốt\x00", ID_B],                # line 7
        [*paper_row("STP", "2014-12-31T23:59:59+07:00", "5"), "", ""],          # line 8
        [*paper_row("STP", "2999-01-01", "5"), "", ""],                         # line 9
    ]
    result = runner.invoke(args=["responses", "import",
                                 str(write_csv(tmp_path / "hostile.csv", ID_HEADER, rows))])
    assert result.exit_code == 1, result.output
    out = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), out
    assert "Traceback" not in out
    for line in (3, 4, 5, 8, 9):
        assert f"dòng {line}: submitted_at:" in out, (line, out)
    assert "trước ngày 2015-01-01" in out
    assert f"dòng 6: id: mã {ID_A} đã được dùng ở dòng 2" in out, out
    assert "dòng 7: comment: không được chứa ký tự điều khiển" in out, out
    assert "dòng 2:" not in out
    assert count() == 0 and count(MonthlyTally) == 0
    assert report(runner, "STP", "2022-07")["responses"] == 0


def test_the_same_id_in_two_batches_is_a_line_error(app, runner, offices, tmp_path,
                                                   monkeypatch):
    from core.services import imports

    monkeypatch.setattr(imports, "BATCH", 2)
    rows = [[*paper_row("STP", f"2022-07-0{d}", "5"), "", rid]
            for d, rid in ((1, ID_A), (2, ""), (3, ""), (4, ID_A))]
    result = runner.invoke(args=["responses", "import",
                                 str(write_csv(tmp_path / "two.csv", ID_HEADER, rows))])
    assert result.exit_code == 1 and f"dòng 5: id: mã {ID_A} đã được dùng ở dòng 2" in \
        result.output, result.output
    assert count() == 0


def test_accepted_dates_run_from_import_earliest_to_now(app, runner, offices, tmp_path):
    app.config["IMPORT_EARLIEST"] = "2022-07-01"
    rows = [paper_row("STP", "2022-07-01T00:00:00+07:00", "5"),   # the first moment, VN time
            paper_row("STP", "2022-06-30T16:59:59Z", "5")]        # a second before it
    result = runner.invoke(args=["responses", "import",
                                 str(write_csv(tmp_path / "d.csv", HEADER, rows))])
    assert result.exit_code == 1 and "dòng 3: submitted_at:" in result.output
    assert "dòng 2:" not in result.output and "trước ngày 2022-07-01" in result.output
    result = runner.invoke(args=["responses", "import",
                                 str(write_csv(tmp_path / "ok.csv", HEADER, rows[:1]))])
    assert result.exit_code == 0, result.output
    assert report(runner, "STP", "2022-07")["responses"] == 1


def test_import_earliest_must_be_a_date(make_app):
    from core import ConfigError

    with pytest.raises(ConfigError, match="SIPAS_IMPORT_EARLIEST"):
        make_app(IMPORT_EARLIEST="1/1/2015")
