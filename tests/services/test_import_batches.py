"""Paper imports are batches: equal files, edited copies, form numbers, replace and undo,
the optional columns and the template (``flask responses import`` / ``flask imports``)."""

from __future__ import annotations

import codecs
import io
import json
import random

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import (
    AuditEvent,
    ImportBatch,
    MonthlyChannelCount,
    MonthlyCrossTally,
    MonthlyTally,
    PaperFormNumber,
    Response,
)
from tests.helpers import CODES, paper_row, write_csv

HEADER = ["office_code", "submitted_at", *CODES]


def rows_of(n: int, office: str = "STP", seed: int = 1) -> list[list[str]]:
    """``n`` varied rows (answers drawn from a seeded generator) in July 2022."""
    rnd = random.Random(seed)
    return [paper_row(office, f"2022-07-{rnd.randint(1, 28):02d}",
                      [str(rnd.randint(1, 5)) for _ in CODES]) for _ in range(n)]


def count(model=Response) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def run(runner, *args):
    return runner.invoke(args=list(args))


def imported(runner, path, *extra) -> int:
    result = run(runner, "responses", "import", str(path), *extra)
    assert result.exit_code == 0, result.output
    return int(result.output.splitlines()[-1])


def month_responses(runner, office="STP", month="2022-07") -> int:
    result = run(runner, "report", office, month)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["responses"]


def tallies() -> set:
    crit = db.session.execute(sa.select(MonthlyTally)).scalars().all()
    chan = db.session.execute(sa.select(MonthlyChannelCount)).scalars().all()
    cross = db.session.execute(sa.select(MonthlyCrossTally)).scalars().all()
    return ({(t.office_id, t.month, t.criterion, t.n1, t.n2, t.n3, t.n4, t.n5, t.n_none)
             for t in crit}
            | {(c.office_id, c.month, c.channel, c.responses) for c in chan}
            | {(x.office_id, x.month, bytes(x.counts)) for x in cross})


def test_the_batch_id_is_alone_on_the_last_line_and_the_batch_is_recorded(
        app, runner, offices, tmp_path):
    path = write_csv(tmp_path / "july.csv", HEADER, rows_of(3) + rows_of(2, "BD-KM", 2))
    result = run(runner, "responses", "import", str(path))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    batch = db.session.get(ImportBatch, int(lines[-1]))
    assert lines[-1] == str(batch.id)
    assert "Đã đọc 5 dòng, lưu 5 phiếu của 2 cơ quan" in lines[-2]
    assert (batch.file_name, batch.rows, batch.first_month, batch.last_month, batch.actor,
            batch.state) == ("july.csv", 5, "2022-07", "2022-07", "cli", "active")
    assert sorted(batch.office_ids) == sorted([offices["STP"].id, offices["BD-KM"].id])
    assert len(batch.checksum) == 64 and batch.created_at is not None
    assert count() == 5
    assert set(db.session.scalars(sa.select(Response.batch_id))) == {batch.id}
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "imports.import"))
    assert event.target == f"import_batch:{batch.id}" and event.details["rows"] == 5


def test_the_same_rows_in_another_encoding_and_layout_are_not_stored_again(
        app, runner, offices, tmp_path):
    rows = rows_of(12) + [paper_row("STP", "2022-07-05T09:30:00", "4")]
    first = imported(runner, write_csv(tmp_path / "a.csv", HEADER, rows))
    # the same rows: CRLF and a byte-order mark, padded cells, another time zone for the
    # same Vietnam day, the rows in another order
    moved = [list(r) for r in reversed(rows)]
    moved[0] = paper_row(" STP ", "2022-07-05T02:30:00Z", " 4 ")
    text = "\r\n".join([",".join(HEADER)] + [",".join(r) for r in moved]) + "\r\n"
    again = tmp_path / "a-excel.csv"
    again.write_bytes(codecs.BOM_UTF8 + text.encode())
    result = run(runner, "responses", "import", str(again))
    assert result.exit_code == 0, result.output
    assert f"13 dòng này đã được lưu, là đợt nhập {first}" in result.output
    assert result.output.splitlines()[-1] == str(first)
    assert count() == 13 and count(ImportBatch) == 1
    # UTF-16 ("Unicode text" of a spreadsheet: tab-separated) too
    tabbed = "\r\n".join(["\t".join(HEADER)] + ["\t".join(r) for r in rows]) + "\r\n"
    utf16 = tmp_path / "a.txt"
    utf16.write_bytes(tabbed.encode("utf-16"))
    assert imported(runner, utf16) == first and count() == 13


def test_an_edited_copy_is_refused_and_undo_restores_the_month(app, runner, offices,
                                                               tmp_path):
    """The issue's case: a file imported, then the same file with one row appended."""
    rows = rows_of(130)
    first = imported(runner, write_csv(tmp_path / "paper.csv", HEADER, rows))
    assert month_responses(runner) == 130
    before = tallies()
    edited = write_csv(tmp_path / "paper-edited.csv", HEADER,
                       rows + [paper_row("STP", "2022-07-30", "3")])
    result = run(runner, "responses", "import", str(edited))
    assert result.exit_code == 1
    assert f"130 trong 131 dòng của tệp trùng với các dòng của đợt nhập {first}" in \
        result.output and f"--replace {first}" in result.output
    assert month_responses(runner) == 130 and count(ImportBatch) == 1
    assert tallies() == before

    # imported anyway: the month doubles (what happened before batches) ...
    second = imported(runner, edited, "--allow-overlap")
    assert month_responses(runner) == 261
    # ... and undoing that batch restores the month exactly
    result = run(runner, "imports", "undo", str(second))
    assert result.exit_code == 0, result.output
    assert f"Đã hủy đợt nhập {second}: xóa 131 phiếu" in result.output
    assert month_responses(runner) == 130
    assert tallies() == before
    assert run(runner, "tallies", "rebuild").output.startswith(
        "Đã tính lại bảng tổng hợp; 0 dòng")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "imports.undo"))
    assert event.actor == "cli" and event.details["rows"] == 131
    # an undone batch cannot be undone twice; the list shows both
    again = run(runner, "imports", "undo", str(second))
    assert again.exit_code == 1 and "không còn hiệu lực" in again.output
    listing = run(runner, "imports", "list").output.splitlines()
    assert listing[0] == "id\tcreated\tactor\tfile\trows\toffices\tmonths\tstate"
    assert listing[1].split("\t")[3:] == ["paper-edited.csv", "131", "STP", "2022-07",
                                          "undone"]
    assert listing[2].split("\t")[3:] == ["paper.csv", "130", "STP", "2022-07", "active"]


def test_replace_swaps_a_batch_in_one_transaction(app, runner, offices, tmp_path):
    rows = rows_of(20)
    first = imported(runner, write_csv(tmp_path / "p.csv", HEADER, rows))
    fixed = rows[:19] + [paper_row("STP", "2022-07-29", "5"), paper_row("STP", "2022-07-30",
                                                                          "5")]
    result = run(runner, "responses", "import", str(write_csv(tmp_path / "p2.csv", HEADER,
                                                               fixed)), "--replace", str(first))
    assert result.exit_code == 0, result.output
    second = int(result.output.splitlines()[-1])
    assert f"Đợt nhập {first} đã được thay thế." in result.output
    assert month_responses(runner) == 21
    old = db.session.get(ImportBatch, first)
    assert (old.state, old.replaced_by) == ("replaced", second)
    assert run(runner, "tallies", "rebuild").output.startswith(
        "Đã tính lại bảng tổng hợp; 0 dòng")
    # a batch that is not active cannot be replaced; nothing changes
    result = run(runner, "responses", "import", str(tmp_path / "p.csv"), "--replace",
                 str(first))
    assert result.exit_code == 1 and month_responses(runner) == 21
    result = run(runner, "responses", "import", str(tmp_path / "p.csv"), "--replace", "999")
    assert result.exit_code == 1 and "Không có đợt nhập 999" in result.output


def test_a_small_overlap_passes_with_a_warning(app, runner, offices, tmp_path):
    rows = rows_of(30)
    first = imported(runner, write_csv(tmp_path / "a.csv", HEADER, rows))
    # 9 equal rows (below the minimum of 10) among 12
    result = run(runner, "responses", "import",
                 str(write_csv(tmp_path / "b.csv", HEADER, rows[:9] + rows_of(3, seed=7))))
    assert result.exit_code == 0, result.output
    assert f"9 dòng trùng với các dòng của đợt nhập {first}" in result.output
    # 10 equal rows, but fewer than half of the file's 25
    result = run(runner, "responses", "import",
                 str(write_csv(tmp_path / "c.csv", HEADER,
                               rows[10:20] + rows_of(15, seed=8))))
    assert result.exit_code == 0, result.output
    assert month_responses(runner) == 30 + 12 + 25


def test_form_numbers_are_imported_once_and_kept_only_as_digests(app, runner, offices,
                                                                 tmp_path):
    header = ["form_no", *HEADER]
    rows = [[f"HN-2022-{i:04d}", *r] for i, r in enumerate(rows_of(12))]
    first = imported(runner, write_csv(tmp_path / "f.csv", header, rows))
    digests = set(db.session.scalars(sa.select(PaperFormNumber.digest)))
    assert len(digests) == 12 and not any("HN-2022" in d for d in digests)
    for table in ("response", "import_batch", "paper_form_number", "audit_event"):
        for row in db.session.execute(sa.text(f"SELECT * FROM {table}")):  # noqa: S608
            assert "HN-2022" not in repr(tuple(row)), table  # stored nowhere in clear
    # numbers already imported, and a number twice in the file, are line errors
    more = [["hn-2022-0003", *paper_row("STP", "2022-07-02", "4")],
            ["HN-2022-9000", *paper_row("STP", "2022-07-02", "4")],
            ["HN-2022-9000", *paper_row("STP", "2022-07-03", "4")],
            ["", *paper_row("STP", "2022-07-03", "4")]]
    result = run(runner, "responses", "import", str(write_csv(tmp_path / "g.csv", header,
                                                               more)))
    assert result.exit_code == 1
    assert f"dòng 2: form_no: số phiếu này đã được nhập trước đây, trong đợt nhập {first}" \
        in result.output
    assert "dòng 4: form_no: số phiếu HN-2022-9000 đã được dùng ở dòng 3" in result.output
    assert "dòng 5: form_no: thiếu số phiếu" in result.output
    # with form numbers, equal answers under new numbers are new forms: not refused
    renumbered = [[f"HN-2022-{i + 100:04d}", *r[1:]] for i, r in enumerate(rows)]
    imported(runner, write_csv(tmp_path / "h.csv", header, renumbered))
    assert month_responses(runner) == 24
    # undo forgets the batch's numbers: they can be imported again
    assert run(runner, "imports", "undo", str(first)).exit_code == 0
    assert count(PaperFormNumber) == 12
    imported(runner, tmp_path / "f.csv")
    assert month_responses(runner) == 24


def test_a_header_without_criterion_columns_names_them(app, runner, offices, tmp_path):
    header = HEADER[:-3]  # V.2, V.3, V.4 left out: they used to become "no answer"
    path = write_csv(tmp_path / "short.csv", header,
                     [paper_row("STP", "2022-07-05", "4")[:-3]])
    result = run(runner, "responses", "import", str(path))
    assert result.exit_code == 1
    assert "dòng 1: dòng tiêu đề sai: thiếu cột tiêu chí V.2, V.3, V.4" in result.output
    assert count() == 0 and count(ImportBatch) == 0


def test_procedure_expectations_and_demographics_columns(app, runner, offices, instrument,
                                                         tmp_path):
    area = instrument.expectation_area_codes()[0]
    level = instrument.expectation_levels[0][0]
    header = [*HEADER, "procedure", f"expectations.{area}", "demographics.gender",
              "demographics.age", "comment"]
    rows = [[*paper_row("STP", "2022-07-05", "4"), "  Cấp  giấy phép xây dựng ", str(level),
             "female", "25-34", "Nhanh"],
            [*paper_row("STP", "2022-07-06", "5"), "", "", "", "", ""]]
    imported(runner, write_csv(tmp_path / "opt.csv", header, rows))
    stored = db.session.scalar(sa.select(Response).where(Response.procedure.is_not(None)))
    assert stored.procedure == "Cấp giấy phép xây dựng"
    assert stored.expectations == {area: level}
    assert stored.demographics == {"gender": "female", "age": "25-34"}
    assert stored.comment == "Nhanh"
    plain = db.session.scalar(sa.select(Response).where(Response.procedure.is_(None)))
    assert plain.expectations is None and plain.demographics is None

    bad = [*HEADER, "expectations.weather", "demographics.gender", "colour"]
    result = run(runner, "responses", "import", str(write_csv(
        tmp_path / "bad.csv", bad, [[*paper_row("STP", "2022-07-05", "4"), "1", "x", "red"]])))
    assert result.exit_code == 1
    assert "dòng 1: expectations.weather:" in result.output
    assert "dòng 1: answers.colour:" in result.output
    result = run(runner, "responses", "import", str(write_csv(
        tmp_path / "bad2.csv", [*HEADER, "demographics.gender"],
        [[*paper_row("STP", "2022-07-05", "4"), "robot"]])))
    assert result.exit_code == 1 and "dòng 2: demographics.gender:" in result.output


def test_the_template_has_every_column_and_imports(app, runner, offices, instrument,
                                                   tmp_path):
    from core.services.imports import template_csv, template_header, template_xlsx

    header = template_header(instrument)
    assert header[:3] == ["office_code", "submitted_at", "form_no"]
    assert [c for c in header if c in CODES] == CODES
    from pathlib import Path

    repo_template = Path(__file__).parents[2] / "docs" / "paper-template.csv"
    assert repo_template.read_bytes() == template_csv(instrument)
    # the template, filled in, imports; an XLSX with the same rows is the same batch
    cells = {"office_code": "STP", "submitted_at": "2022-07-05", "form_no": "A-1",
             **{c: "4" for c in CODES}}
    line = [cells.get(h, "") for h in header]
    path = tmp_path / "filled.csv"
    path.write_bytes(template_csv(instrument) + (",".join(line) + "\r\n").encode())
    first = imported(runner, path)

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(template_xlsx(instrument)))
    assert [c.value for c in book.active[1]] == header
    book.active.append([int(v) if v.isdigit() else v for v in line])
    xlsx = tmp_path / "filled.xlsx"
    book.save(xlsx)
    result = run(runner, "responses", "import", str(xlsx))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == str(first) and count() == 1


def test_undo_removes_the_handling_of_the_batch_comments(app, runner, offices, tmp_path):
    from core.models import CommentHandling

    path = write_csv(tmp_path / "c.csv", [*HEADER, "comment"],
                     [[*paper_row("STP", "2022-07-05", "2"), "Chậm"]])
    batch = imported(runner, path)
    response = db.session.scalar(sa.select(Response))
    db.session.add(CommentHandling(response_id=response.id, status="in_progress"))
    db.session.commit()
    assert run(runner, "imports", "undo", str(batch)).exit_code == 0
    assert count() == 0 and count(CommentHandling) == 0
    assert count(MonthlyTally) == 0 and count(MonthlyCrossTally) == 0


def test_a_failed_import_leaves_no_batch(app, runner, offices, tmp_path):
    path = write_csv(tmp_path / "bad.csv", HEADER, [paper_row("XYZ", "2022-07-05", "4")])
    assert run(runner, "responses", "import", str(path)).exit_code == 1
    assert count(ImportBatch) == 0 and count() == 0


@pytest.mark.parametrize("rows", [0, 1])
def test_imports_list_is_tab_separated_with_a_header(app, runner, offices, tmp_path, rows):
    if rows:
        imported(runner, write_csv(tmp_path / "x.csv", HEADER, rows_of(rows)))
    lines = run(runner, "imports", "list").output.splitlines()
    assert len(lines) == 1 + rows and all(len(x.split("\t")) == 8 for x in lines)


@pytest.mark.postgres_only
def test_the_same_file_imported_twice_at_once_is_stored_once(app, backend, offices, tmp_path):
    """Two cron runs of one file at the same moment: the second waits for the first's
    import lock, then finds its batch."""
    import threading

    from core.services.common import get_instrument
    from core.services.imports import import_path

    if backend != "postgresql":
        pytest.skip("concurrent transactions are tested on PostgreSQL")
    path = write_csv(tmp_path / "twice.csv", HEADER, rows_of(40))
    db.session.remove()
    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def run_import() -> None:
        try:
            with app.app_context():
                barrier.wait(10)
                outcomes.append(import_path(path, get_instrument("hanoi-2022"), actor="cli"))
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run_import) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    stored = [o for o in outcomes if o.duplicate_of is None]
    assert len(stored) == 1 and [o.duplicate_of for o in outcomes if o not in stored] == \
        [stored[0].batch_id]
    assert count() == 40 and count(ImportBatch) == 1


def test_a_batch_keeps_no_file_order_and_no_form_number_beside_an_answer(
        app, runner, offices, tmp_path, monkeypatch):
    """What the batch adds to a paper answer is its batch id only: the rows are stored in
    the order of the (injected) shuffle, not the file's, with random ids and the day."""
    from core.services import imports

    order: list[list[str]] = []

    def recording(group) -> None:  # reverse, and remember what was shuffled
        order.extend(r[imports._P_ANSWERS] for r in group)
        group.reverse()

    monkeypatch.setattr(imports, "_shuffle", recording)
    rows = [[f"F-{i}", *paper_row("STP", f"2022-07-05T10:1{i % 10}:00",
                                   [str(1 + (i + k) % 5) for k in range(len(CODES))])]
            for i in range(30)]
    imported(runner, write_csv(tmp_path / "o.csv", ["form_no", *HEADER], rows))
    stored = db.session.execute(sa.select(Response.answers, Response.uuid,
                                          Response.submitted_at, Response.batch_id)
                                .order_by(Response.id)).all()
    assert [r.answers for r in stored] == order[::-1] != order  # the shuffle's order
    assert len({r.submitted_at for r in stored}) == 1  # the day only
    assert len({r.batch_id for r in stored}) == 1
    columns = set(Response.__table__.columns.keys())
    assert not {"form_no", "form_digest", "line"} & columns


def test_rows_taken_from_the_cells_seen_before_equal_fully_checked_ones(
        app, runner, offices, tmp_path):
    """Most rows repeat an office, a date and a channel already checked on an earlier line:
    they are taken from what was found then. The batch's checksum is the one of the
    normalised rows as every check makes them, the stored rows and tallies are those of the
    file, and odd cells (spaces, a blank row, a comment) still go through every check."""
    import uuid

    from core.services import imports
    from core.services.tallies import rebuild_tallies

    header = ["office_code", "submitted_at", "channel", *CODES, "comment"]
    rnd = random.Random(5)
    rows = []
    for i in range(60):
        cells = [str(rnd.choice([1, 2, 3, 4, 5, ""])) for _ in CODES]
        cells[0] = str(1 + i % 5)  # at least one answer
        rows.append(["STP" if i % 3 else "BD-KM", f"2022-07-0{1 + i % 4}T09:30:00",
                     "" if i % 4 else "kiosk", *cells, ""])
    rows[7][3] = " 4 "  # spaces: read the slow way, the same answer
    rows[9][-1] = "viết tay"
    rows.insert(20, [""] * len(header))  # a blank line
    batch_id = imported(runner, write_csv(tmp_path / "mixed.csv", header, rows))
    stored = db.session.execute(sa.select(Response.answers, Response.channel,
                                          Response.comment, Response.uuid)).all()
    assert len(stored) == 60
    expected_answers = sorted("".join((c.strip() or "0") for c in r[3:3 + len(CODES)])
                              for r in rows if r[0])
    assert sorted(s.answers for s in stored) == expected_answers
    assert sorted(s.channel for s in stored) == sorted(
        (r[2] or "paper") for r in rows if r[0])
    assert [s.comment for s in stored if s.comment] == ["viết tay"]
    assert all(str(uuid.UUID(s.uuid)) == s.uuid and uuid.UUID(s.uuid).version == 4
               for s in stored)
    # the checksum, with every row normalised as the full checks do
    checksum = imports._Checksum("hanoi-2022")
    for r in rows:
        if not r[0]:
            continue
        day = imports.day_start(imports.vn_day(imports.parse_timestamp(r[1])))
        checksum.add((r[0], day.isoformat(), r[2] or "paper",
                      "".join((c.strip() or "0") for c in r[3:3 + len(CODES)]),
                      r[-1] or None, None, None, None, "", ""))
    assert db.session.get(ImportBatch, batch_id).checksum == checksum.hexdigest()
    before = tallies()
    assert rebuild_tallies(db.session) == 0
    assert tallies() == before


def test_random_uuids_are_version_4_and_distinct():
    import uuid

    from core.services.imports import random_uuids

    made = random_uuids(2000)
    assert len(set(made)) == 2000 and random_uuids(0) == []
    for text in made[:200]:
        parsed = uuid.UUID(text)
        assert str(parsed) == text and parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
