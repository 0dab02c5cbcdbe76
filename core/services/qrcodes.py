"""QR codes for receipts and posters, as PNG and SVG, with a short line of text under them.

Error correction defaults to level Q (25 % of the code may be lost): receipts are printed on
thermal paper that fades, smudges and creases. The quiet zone of 4 modules that the standard
requires is always kept. PNG modules are whole pixels (default 6, i.e. 0.75 mm on a 203 dpi
thermal printer; a receipt link's version-6/7 code then fits the 384 dots of a 58 mm roll),
so a printer never has to resample them. Pure functions: no Flask, no database.

The mask pattern is fixed (:data:`MASK`) instead of chosen by scoring all eight: every mask
decodes (the choice only spreads dark and light modules more evenly), and scoring them is
most of the work of making a code. PNGs are 1-bit (all a thermal printer has) and saved
without a compression search; the caption is rendered once per text and width.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from functools import lru_cache
from xml.sax.saxutils import escape

import qrcode
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q

from core.pdf_fonts import REGULAR_TTF

LEVELS = {"L": ERROR_CORRECT_L, "M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q, "H": ERROR_CORRECT_H}
QUIET_ZONE = 4  # modules, as ISO/IEC 18004 requires
#: the data mask of every code (ISO/IEC 18004 mask 2: every third column): any mask decodes
MASK = 2


@lru_cache(maxsize=512)
def qr_matrix(data: str, level: str = "Q") -> tuple[tuple[bool, ...], ...]:
    """The module matrix of ``data``, quiet zone included (cached: the PNG and the SVG of a
    receipt, or a reprint, reuse it). Raises KeyError for a bad level."""
    qr = qrcode.QRCode(error_correction=LEVELS[level.upper()], border=QUIET_ZONE, box_size=1,
                       mask_pattern=MASK)
    qr.add_data(data)
    qr.make(fit=True)
    return tuple(tuple(row) for row in qr.get_matrix())


@lru_cache(maxsize=8)
def _font(size: int):
    from PIL import ImageFont

    return ImageFont.truetype(str(REGULAR_TTF), size)


@lru_cache(maxsize=32)
def _caption(caption: str, side: int, box_size: int):
    """The 1-bit image of ``caption`` centred in ``side`` pixels (shrunk to fit the width
    less a module each side); the same for every receipt, so rendered once."""
    from PIL import Image, ImageDraw

    size = max(10, box_size * 2)
    font = _font(size)
    while size > 8 and font.getlength(caption) > side - 2 * box_size:
        size -= 1
        font = _font(size)
    line_h = int(size * 1.6)
    img = Image.new("L", (side, line_h), 255)
    draw = ImageDraw.Draw(img)
    draw.text(((side - font.getlength(caption)) / 2, 0), caption, fill=0, font=font)
    return img.point(lambda v: 255 if v >= 160 else 0, mode="1")


def qr_png(data: str, caption: str | None = None, level: str = "Q", box_size: int = 6) -> bytes:
    """A black-on-white 1-bit PNG of the QR code, ``box_size`` pixels per module, with
    ``caption`` centred under it (shrunk to fit the width)."""
    from PIL import Image

    matrix = qr_matrix(data, level)
    n = len(matrix)
    code = Image.frombytes("L", (n, n), bytes(0 if cell else 255
                                              for row in matrix for cell in row))
    side = n * box_size
    code = code.resize((side, side), Image.Resampling.NEAREST).convert("1", dither=None)
    if caption:
        text = _caption(caption, side, box_size)
        img = Image.new("1", (side, side + text.height), 1)
        img.paste(code, (0, 0))
        img.paste(text, (0, side))  # below the whole quiet zone, which stays blank
        code = img
    out = io.BytesIO()
    code.save(out, format="PNG")
    return out.getvalue()


def dark_runs(matrix: Sequence[Sequence[bool]]) -> Iterator[tuple[int, int, int]]:
    """(row, first column, length) of every horizontal run of dark modules, so that a
    vector drawing needs one rectangle per run instead of one per module."""
    for y, row in enumerate(matrix):
        x, n = 0, len(row)
        while x < n:
            if row[x]:
                start = x
                while x < n and row[x]:
                    x += 1
                yield y, start, x - start
            else:
                x += 1


def qr_svg(data: str, caption: str | None = None, level: str = "Q") -> bytes:
    """A scalable SVG of the QR code (one path; 1 unit = 1 module) with ``caption`` under it."""
    matrix = qr_matrix(data, level)
    n = len(matrix)
    parts = [f"M{x} {y}h{length}v1h{-length}z" for y, x, length in dark_runs(matrix)]
    height = n + (3 if caption else 0)
    text = ""
    if caption:
        size = min(1.6, (n - 2) / max(len(caption), 1) * 1.9)
        text = (f'<text x="{n / 2:g}" y="{n + 1.8:g}" font-family="DejaVu Sans, Arial, '
                f'sans-serif" font-size="{size:.2f}" text-anchor="middle" '
                f'fill="#000">{escape(caption)}</text>')
    label = escape(caption or data, {'"': "&quot;"})
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {height}" '
           f'width="{n * 6}" height="{height * 6}" role="img" aria-label="{label}" '
           f'shape-rendering="crispEdges"><rect width="{n}" height="{height}" fill="#fff"/>'
           f'<path d="{"".join(parts)}" fill="#000"/>{text}</svg>')
    return svg.encode("utf-8")
