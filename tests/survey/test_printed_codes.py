"""What gets printed: QR images decode back to the link (zbarimg, Debian package zbar-tools),
PDF slips and posters carry the Vietnamese instructions with their diacritics (pdftotext,
Debian package poppler-utils). Skipped locally when a tool is missing; required in CI."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from core.services.qrcodes import QUIET_ZONE, qr_matrix, qr_png, qr_svg

URL = "https://sipas.hanoi.gov.vn/s/4Hf_LTWbwDfvW9mN.9trdyHa3plul4AsjWrmaxp9ByeM"


def need(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is missing: apt-get install -y {package}")
        pytest.skip(f"needs {tool} (Debian package {package})")
    return path


def zbar(path: Path) -> list[str]:
    tool = need("zbarimg", "zbar-tools")
    out = subprocess.run([tool, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(path)],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return [line for line in out.stdout.splitlines() if line]


def pdftotext(pdf: Path) -> str:
    tool = need("pdftotext", "poppler-utils")
    out = subprocess.run([tool, "-layout", str(pdf), "-"], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr
    return re.sub(r"\s+", " ", out.stdout)


def svg_to_png(svg: bytes, path: Path, scale: int = 8) -> None:
    """Rasterise our SVG (one path of 'M x y h w v1 h-w z' runs) to check its geometry."""
    text = svg.decode()
    width, height = map(int, re.search(r'viewBox="0 0 (\d+) (\d+)"', text).groups())
    img = Image.new("L", (width * scale, height * scale), 255)
    draw = ImageDraw.Draw(img)
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", text):
        x, y, w = int(x), int(y), int(w)
        draw.rectangle([x * scale, y * scale, (x + w) * scale - 1, (y + 1) * scale - 1], fill=0)
    img.save(path)


def test_png_decodes_back_to_the_url_and_keeps_the_quiet_zone(tmp_path):
    png = tmp_path / "qr.png"
    png.write_bytes(qr_png(URL, "Quét mã để đánh giá · sipas.hanoi.gov.vn", box_size=6))
    assert zbar(png) == [URL]
    with Image.open(png) as opened:
        img = opened.convert("L")
    n = len(qr_matrix(URL))
    quiet = QUIET_ZONE * 6
    side = n * 6
    assert img.height > side  # the caption is below the code
    for box in ((0, 0, side, quiet), (0, 0, quiet, side), (side - quiet, 0, side, side),
                (0, side - quiet, side, side)):
        assert img.crop(box).getextrema() == (255, 255), box  # blank quiet zone


def test_default_png_fits_a_58mm_thermal_printer(tmp_path):
    png = tmp_path / "receipt.png"
    png.write_bytes(qr_png(URL, "Quét mã để đánh giá · sipas.hanoi.gov.vn"))
    with Image.open(png) as img:
        width = img.width
    assert width <= 384 and width % len(qr_matrix(URL)) == 0  # whole dots per module
    assert zbar(png) == [URL]


def test_svg_geometry_decodes_back_to_the_url(tmp_path):
    svg = qr_svg(URL, "Quét mã để đánh giá")
    assert b"Qu\xc3\xa9t m\xc3\xa3" in svg  # UTF-8 caption
    png = tmp_path / "svg.png"
    svg_to_png(svg, png)
    assert zbar(png) == [URL]


@pytest.mark.parametrize("level", ["L", "M", "Q", "H"])
def test_every_error_correction_level_decodes(tmp_path, level):
    png = tmp_path / f"{level}.png"
    png.write_bytes(qr_png(URL, level=level, box_size=4))
    assert zbar(png) == [URL]


def test_api_qr_image_decodes_to_the_survey_url(client, offices, tmp_path):
    from core.services.receipts import create_api_key

    key = create_api_key("BD-KM")[1]
    body = client.post("/api/v1/receipts", json={"dossier_code": "H26-220101-0042"},
                       headers={"Authorization": f"Bearer {key}"}).get_json()
    png = tmp_path / "api.png"
    png.write_bytes(client.get(body["qr_png_url"]).data)
    assert zbar(png) == [body["url"]]


def test_slips_pdf_has_vietnamese_instructions_and_decodable_codes(runner, offices, tmp_path):
    codes = tmp_path / "codes.txt"
    codes.write_text("\n".join(f"000.00.20.H26-220101-{i:04d}" for i in range(1, 15)) + "\n",
                     encoding="utf-8")
    pdf = tmp_path / "slips.pdf"
    result = runner.invoke(args=["receipts", "slips", "BD-KM", str(codes), "-o", str(pdf),
                                 "--base-url", "https://sipas.hanoi.gov.vn"])
    assert result.exit_code == 0, result.output
    assert "Đã ghi 14 phiếu" in result.output
    text = pdftotext(pdf)
    assert "UBND phường Kim Mã" in text and "Khảo sát sự hài lòng" in text
    assert "quét mã QR để đánh giá việc giải quyết hồ sơ" in text
    assert "Mỗi hồ sơ được đánh giá một lần" in text
    assert "Mã hồ sơ: 000.00.20.H26-220101-0014" in text
    info = subprocess.run([need("pdfinfo", "poppler-utils"), str(pdf)], capture_output=True,
                          text=True).stdout
    assert re.search(r"Pages:\s+2", info) and "A4" in info
    fonts = subprocess.run([need("pdffonts", "poppler-utils"), str(pdf)], capture_output=True,
                           text=True).stdout
    assert "DejaVuSans" in fonts and " yes " in fonts  # embedded
    # each slip, cut out along the grid, decodes to its own survey link
    raster = need("pdftoppm", "poppler-utils")
    subprocess.run([raster, "-r", "200", "-gray", "-f", "1", "-l", "1", "-png", "-singlefile",
                    str(pdf), str(tmp_path / "page")], check=True, timeout=60)
    with Image.open(tmp_path / "page.png") as opened:
        page = opened.convert("L")
    margin = 8 / 25.4 * 200
    cell_w, cell_h = (page.width - 2 * margin) / 3, (page.height - 2 * margin) / 4
    decoded = []
    for row in range(4):
        for col in range(3):
            slip = tmp_path / f"slip-{row}-{col}.png"
            page.crop((int(margin + col * cell_w), int(margin + row * cell_h),
                       int(margin + (col + 1) * cell_w), int(margin + (row + 1) * cell_h))
                      ).save(slip)
            decoded += zbar(slip)
    assert len(set(decoded)) == 12 and all(
        u.startswith("https://sipas.hanoi.gov.vn/s/") for u in decoded)
    # minting is idempotent: a second sheet has the same links
    pdf2 = tmp_path / "again.pdf"
    runner.invoke(args=["receipts", "slips", "BD-KM", str(codes), "-o", str(pdf2),
                        "--base-url", "https://sipas.hanoi.gov.vn"])
    assert pdftotext(pdf2) == text


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_poster_pdf(runner, offices, tmp_path, size):
    pdf = tmp_path / "poster.pdf"
    result = runner.invoke(args=["receipts", "poster", "BD-KM", "-o", str(pdf), "--size", size,
                                 "--counter", "Quầy số 3",
                                 "--base-url", "https://sipas.hanoi.gov.vn"])
    assert result.exit_code == 0, result.output
    text = pdftotext(pdf)
    for expected in ("UBND phường Kim Mã", "Quầy số 3",
                     "Mời Ông/Bà đánh giá sự hài lòng",
                     "1. Mở camera điện thoại và hướng vào mã QR.",
                     "2. Chạm vào đường liên kết hiện ra trên màn hình.",
                     "Không cần ghi tên.", "https://sipas.hanoi.gov.vn/o/BD-KM"):
        assert expected in text, expected
    subprocess.run([need("pdftoppm", "poppler-utils"), "-r", "100", "-gray", "-png", str(pdf),
                    str(tmp_path / "poster")], check=True, timeout=60)
    assert zbar(next(tmp_path.glob("poster*.png"))) == ["https://sipas.hanoi.gov.vn/o/BD-KM"]
    points = {"A4": "595.276 x 841.89", "A5": "419.528 x 595.276"}[size]
    assert points in subprocess.run([need("pdfinfo", "poppler-utils"), str(pdf)],
                                    capture_output=True, text=True).stdout
