"""Downloads as data: the criterion table follows the dashboard; raw responses carry the
date only and no identifiers; spreadsheet formulas are neutralised."""

from __future__ import annotations

import csv
import io

from core.services.dashboard import build_dashboard
from core.services.exports import criteria_rows, criteria_table, response_rows


def test_criterion_rows_follow_the_dashboard(world, offices):
    data = build_dashboard(offices["BD-KM"], world["month"])
    header, rows = criteria_rows(data)
    assert len(header) == len(rows[0]) == 36
    assert {r[-1] for r in rows} == {data["report"]["responses"]}  # the response total
    assert {r[19] for r in rows} <= {"có", "không"}  # too few answers: always said
    assert [r[3] for r in rows] == ["Chung"] + ["Lĩnh vực"] * 5 + ["Tiêu chí"] * 24
    assert rows[0][6] == round(data["report"]["overall"], 2)
    # the overall and dimension V are incomplete (V.4 never answered), and say so
    assert rows[0][17:19] == ["không", "V"] and rows[5][17:19] == ["không", "V.4"]
    assert rows[0][-2].startswith("chưa đầy đủ")
    i1 = rows[6]
    assert i1[4] == "I.1" and i1[6] == round(31 / 36 * 100, 2) and i1[10:12] == [36, 0]
    assert i1[12:17] == [0, 5, 0, 1, 30]
    table = list(csv.reader(io.StringIO(criteria_table(data, "csv").decode("utf-8-sig"))))
    assert len(table) == 1 + len(rows) and table[7][4] == "I.1"


def test_raw_rows_have_the_date_only_and_no_identifiers(world, offices, instrument):
    header, rows = response_rows(offices["BD"], world["month"])
    rows = list(rows)
    assert len(rows) == 40
    assert len(header) == len(rows[0])
    assert rows[0][:3] == ["BD-DB", "UBND phường Điện Biên", world["month"]]
    dates = {r[3] for r in rows}
    assert all(len(d) == 10 and d.startswith(world["month"]) for d in dates)
    assert {r[4] for r in rows} == {"Máy tính bảng tại quầy", "Mã QR trên phiếu hẹn",
                                    "Phiếu giấy"}
    codes = list(instrument.criterion_codes)
    first = rows[0][6:6 + len(codes)]
    assert first == [3] * 23 + [None]  # V.4 unanswered
    comments = [r[-1] for r in rows if r[-1]]
    assert comments == ["Nhà vệ sinh cần sạch sẽ hơn."]
    empty_header, empty = response_rows(offices["HN"], "2019-01")
    assert empty_header == header and list(empty) == []
