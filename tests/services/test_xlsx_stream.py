"""The streaming XLSX writer used for large downloads reads back in openpyxl."""

from __future__ import annotations

import io

from openpyxl import load_workbook


def test_streaming_xlsx_writer_reads_back(tmp_path):
    from core.services.xlsx_stream import column_letter, write_xlsx

    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
    data = write_xlsx("Phiếu", ["Mã", "Ý kiến", "Số"],
                      [["HN", "Rất tốt & <nhanh>", 5], ["BD", None, 2.5],
                       ["X", " khoảng trắng \x0b", True]])
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Phiếu"]
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows == [("Mã", "Ý kiến", "Số"), ("HN", "Rất tốt & <nhanh>", 5), ("BD", None, 2.5),
                    ("X", " khoảng trắng ", True)]
    assert wb.active["A1"].font.b and wb.active.freeze_panes == "A2"
