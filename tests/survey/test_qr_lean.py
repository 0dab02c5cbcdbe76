"""The QR images stay lean (issue 20): 1-bit PNGs, and codes of many links all decode with
the fixed mask."""

from __future__ import annotations

import io

from PIL import Image

from core.services.qrcodes import MASK, qr_matrix, qr_png
from tests.survey.test_printed_codes import zbar


def test_png_is_one_bit_with_its_caption_under_the_code():
    png = qr_png("https://sipas.hanoi.gov.vn/s/abc", "Quét mã để đánh giá")
    with Image.open(io.BytesIO(png)) as img:
        assert img.mode == "1"
        side = len(qr_matrix("https://sipas.hanoi.gov.vn/s/abc")) * 6
        assert img.width == side and img.height > side
        caption = img.crop((0, side, side, img.height)).convert("L")
        assert caption.getextrema() == (0, 255)  # the caption has ink


def test_codes_with_the_fixed_mask_decode(tmp_path):
    assert 0 <= MASK <= 7
    for i, token in enumerate(["a", "4Hf_LTWbwDfvW9mN.9trdyHa3plul4AsjWrmaxp9ByeM",
                               "x" * 90, "0000000000"]):
        url = f"https://sipas.hanoi.gov.vn/s/{token}"
        path = tmp_path / f"{i}.png"
        path.write_bytes(qr_png(url, "Quét mã", level="H" if i % 2 else "Q", box_size=3))
        assert zbar(path) == [url]
