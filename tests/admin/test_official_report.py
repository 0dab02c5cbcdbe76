"""The report as an administrative document (Decree 30/2020/NĐ-CP), read back from real PDFs
with ``pdftotext``: a ward, a district-level body and the city. Page images are kept under
test-artifacts/official-report/ (``pdftoppm``)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from core.extensions import db
from core.services.offices import import_offices
from core.services.official_report import header_font_size, vn_date_line
from core.timeutil import VN_TZ, last_complete_month, utcnow
from tests.admin.fixtures import make_responses
from tests.services.test_priorities import _store, synthetic

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "official-report"
pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                reason="needs poppler-utils")

FIELDS = ("code,name,parent_code,level,superior_name,document_symbol,place_name,"
          "signer_capacity,signer_title,signer_name,report_recipients\n"
          "HN,Thành phố Hà Nội,,city,,UBND,Hà Nội,TM. ỦY BAN NHÂN DÂN,CHỦ TỊCH,Trần Văn B,"
          "Bộ Nội vụ\\nVăn phòng Chính phủ\n"
          "BD,UBND quận Ba Đình,HN,district,ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI,UBND,Hà Nội,"
          "KT. CHỦ TỊCH,PHÓ CHỦ TỊCH,Nguyễn Văn A,\n"
          "BD-KM,UBND phường Kim Mã,BD,commune,,UBND,Hà Nội,TM. ỦY BAN NHÂN DÂN,CHỦ TỊCH,"
          "Lê Thị C,\n")


def test_date_line_has_a_leading_zero_for_short_days_and_months_1_and_2_only():
    assert vn_date_line("Hà Nội", date(2026, 12, 5)) == "Hà Nội, ngày 05 tháng 12 năm 2026"
    assert vn_date_line("Hà Nội", date(2026, 2, 9)) == "Hà Nội, ngày 09 tháng 02 năm 2026"
    assert vn_date_line("Hà Nội", date(2026, 1, 31)) == "Hà Nội, ngày 31 tháng 01 năm 2026"
    assert vn_date_line("Huế", date(2026, 3, 10)) == "Huế, ngày 10 tháng 3 năm 2026"
    assert vn_date_line("Hà Nội", date(2026, 11, 30)) == "Hà Nội, ngày 30 tháng 11 năm 2026"


def test_header_size_never_breaks_a_word():
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from core.pdf_fonts import register_serif

    bold = register_serif()[1]
    size = header_font_size(["Khoảng tin cậy 95 %", "Hạng", "Không trả lời"], [40, 30, 28],
                            bold)
    for word, width in (("Khoảng", 40), ("Hạng", 30), ("Không", 28)):
        assert stringWidth(word, bold, size) <= width - 6


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    return text.split("\f")[:-1]


def _crop(pdf: Path, x: int, w: int) -> str:
    """The first page's text in a column of the letterhead (points from the left edge)."""
    return subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-x", str(x), "-y", "0", "-W",
                           str(w), "-H", "160", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


def _render(runner, code: str, month: str, name: str) -> tuple[list[str], str, str]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / f"{name}.pdf"
    result = runner.invoke(args=["report", code, month, "--format", "pdf", "-o", str(out)])
    assert result.exit_code == 0, result.output
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(out), str(ARTIFACTS / name)],
                       check=True)
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True,
                           check=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    assert rows and all(r[0].split("+")[-1].startswith("LiberationSerif") for r in rows)
    assert all(r[-5] == "yes" for r in rows)  # embedded
    return _pages(out), _crop(out, 80, 200), _crop(out, 280, 320)


def _lines(page: str) -> list[str]:
    return [line.strip() for line in page.splitlines() if line.strip()]


@pytest.fixture
def world(app, offices, instrument):
    import_offices(io.StringIO(FIELDS))
    db.session.commit()
    month = last_complete_month()
    _store(instrument, offices["BD-KM"], month, synthetic(instrument.criterion_codes, 240))
    make_responses(instrument, offices["BD-DB"], month, 40, sat=4, channel="paper")
    make_responses(instrument, offices["STP"], month, 12, sat=5, channel="qr")
    return month


def _check_common(rendered: tuple[list[str], str, str], *, issuer: str, superior: str | None,
                  signer: list[str], recipients: list[str]) -> list[str]:
    pages, left, right = rendered
    first = _lines(pages[0])
    today = utcnow().astimezone(VN_TZ).date()
    # left: superior body above the issuing body, both uppercase, then the number
    head = _lines(left)
    head = head[:head.index("Số: ……/BC-UBND")]
    assert " ".join(head) == " ".join(filter(None, [superior, issuer]))
    # right: nation, motto with hyphens, place and date
    assert _lines(right)[:3] == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                             "Độc lập - Tự do - Hạnh phúc", vn_date_line("Hà Nội", today)]
    assert "BÁO CÁO" in pages[0] and "I. KẾT QUẢ KHẢO SÁT" in pages[0]
    whole = "\n".join(pages)
    assert "II. ĐÁNH GIÁ" in whole and "III. ĐỀ XUẤT, KIẾN NGHỊ" in whole
    # page numbers: none on page 1, then 2, 3... first on each later page
    assert len(pages) >= 2
    assert not re.fullmatch(r"\d+", first[0])
    for number, page in enumerate(pages[1:], start=2):
        assert _lines(page)[0] == str(number)
    # the signature block is on the last page, with text of part III before it
    last = pages[-1]
    assert "Nơi nhận:" in last
    before = last.split("Nơi nhận:")[0]
    assert len(_lines(before)) >= 2, "the signature block stands alone"
    for r in recipients:
        assert f"- {r};" in last
    assert "- Lưu: VT." in last
    at = -1
    for line in signer:  # in this order
        found = last.find(line, at + 1)
        assert found > at, line
        at = found
    return pages


def test_ward_report(runner, world):
    pages = _check_common(_render(runner, "BD-KM", world, "ward"), issuer="UBND PHƯỜNG KIM MÃ",
                          superior="UBND QUẬN BA ĐÌNH",
                          signer=["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Lê Thị C"],
                          recipients=["UBND quận Ba Đình"])
    whole = "\n".join(pages)
    assert "Nội dung cần ưu tiên cải thiện" in whole and "III.2" in whole
    assert "Ba tiêu chí cần ưu tiên cải thiện" in whole


def test_district_report(runner, world):
    pages = _check_common(_render(runner, "BD", world, "district"), issuer="UBND QUẬN BA ĐÌNH",
                  superior="ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI",
                  signer=["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Nguyễn Văn A"],
                  recipients=["Thành phố Hà Nội"])
    whole = "\n".join(pages)
    # the rank column's header is whole (it used to break as "Hạn/g")
    assert re.search(r"\bHạng\b", whole)


def test_city_report(runner, world):
    _check_common(_render(runner, "HN", world, "city"), issuer="THÀNH PHỐ HÀ NỘI", superior=None,
                  signer=["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Trần Văn B"],
                  recipients=["Bộ Nội vụ", "Văn phòng Chính phủ"])
