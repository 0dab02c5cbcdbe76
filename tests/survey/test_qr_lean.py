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


def test_the_encoder_makes_qrcodes_modules():
    """Codes are made without ``qrcode``'s per-code work (the segments it would choose, the
    fixed mask, tables per version): the modules equal the library's at every level, across
    version boundaries (longer character counts from version 10, version information from 7)
    and for text that mixes bytes with runs of digits and of capitals."""
    import random
    import string

    import qrcode

    from core.services import qrcodes

    def reference(data: str, level: str):
        qr = qrcode.QRCode(error_correction=qrcodes.LEVELS[level], box_size=1,
                           border=qrcodes.QUIET_ZONE, mask_pattern=MASK)
        qr.add_data(data)
        qr.make(fit=True)
        return tuple(tuple(row) for row in qr.get_matrix())

    rng = random.Random(18004)
    mixed = string.ascii_letters + string.digits + "-_.~/:?=&ạđươ "
    capitals = "ABCDEFGHJKMN2345/:"
    kinds = set()
    for length in [1, 14, 15, 16, 20, 21, 40, 62, 63, 64, 65, 120, 180, 230, 231, 271, 400]:
        for level in "LMQH":
            for alphabet in (mixed, capitals, string.digits):
                data = "https://x.vn/s/" + "".join(rng.choice(alphabet) for _ in range(length))
                kinds.update(c.mode for c in qrcode.util.optimal_data_chunks(data, 20))
                qr_matrix.cache_clear()
                assert qr_matrix(data, level) == reference(data, level), (data, level)
    assert kinds == {qrcode.util.MODE_NUMBER, qrcode.util.MODE_ALPHA_NUM,
                     qrcode.util.MODE_8BIT_BYTE}
