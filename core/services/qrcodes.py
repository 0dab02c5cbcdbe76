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
from qrcode import base as qr_base
from qrcode import exceptions as qr_exceptions
from qrcode import util as qr_util
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q

from core.pdf_fonts import REGULAR_TTF

LEVELS = {"L": ERROR_CORRECT_L, "M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q, "H": ERROR_CORRECT_H}
QUIET_ZONE = 4  # modules, as ISO/IEC 18004 requires
#: the data mask of every code (ISO/IEC 18004 mask 2: every third column): any mask decodes
MASK = 2


@lru_cache(maxsize=512)
def qr_matrix(data: str, level: str = "Q") -> tuple[tuple[bool, ...], ...]:
    """The module matrix of ``data``, quiet zone included (cached: the PNG and the SVG of a
    receipt, or a reprint, reuse it). Raises KeyError for a bad level.

    The modules are ``qrcode``'s, made by :func:`_segments_matrix` about five times faster
    (a test compares them); ``qrcode`` itself draws any segment kind it does not know."""
    ec = LEVELS[level.upper()]
    # the segments qrcode.QRCode.add_data makes (digits, capitals, bytes)
    segments = [(c.mode, c.data) for c in qr_util.optimal_data_chunks(data, minimum=20)]
    if all(mode in _SEGMENT_BITS for mode, _data in segments):
        return _segments_matrix(segments, ec)
    qr = qrcode.QRCode(error_correction=ec, border=QUIET_ZONE, box_size=1, mask_pattern=MASK)
    qr.add_data(data)
    qr.make(fit=True)
    return tuple(tuple(row) for row in qr.get_matrix())


# --- fixed mask, the segments qrcode chooses --------------------------------------------------
# The steps of ISO/IEC 18004 that ``qrcode`` runs for every code, with what depends only on
# the version and level (function patterns, the order of the data modules, the mask, the
# Reed-Solomon generators) computed once. A test compares the modules with ``qrcode``'s.

_EXP = qr_base.EXP_TABLE
_LOG = qr_base.LOG_TABLE


def _digits(data: bytes) -> tuple[int, int]:
    value = nbits = 0
    for i in range(0, len(data), 3):
        chars = data[i:i + 3]
        width = qr_util.NUMBER_LENGTH[len(chars)]
        value, nbits = value << width | int(chars), nbits + width
    return value, nbits


def _capitals(data: bytes) -> tuple[int, int]:
    value = nbits = 0
    for i in range(0, len(data), 2):
        pair = data[i:i + 2]
        if len(pair) == 2:
            value, nbits = value << 11 | _ALPHA[pair[0]] * 45 + _ALPHA[pair[1]], nbits + 11
        else:
            value, nbits = value << 6 | _ALPHA[pair[0]], nbits + 6
    return value, nbits


_ALPHA = {c: i for i, c in enumerate(qr_util.ALPHA_NUM)}
#: mode -> (its data as an integer, its number of bits)
_SEGMENT_BITS = {
    qr_util.MODE_NUMBER: _digits,
    qr_util.MODE_ALPHA_NUM: _capitals,
    qr_util.MODE_8BIT_BYTE: lambda data: (int.from_bytes(data, "big"), 8 * len(data)),
}


def _version_for(segments: list[tuple[int, int, int, int]], ec: int) -> int:
    """The smallest version whose data capacity holds the segments (mode indicator,
    character count, data), as ``qrcode``'s best fit chooses it."""
    for version in range(1, 41):
        needed = sum(4 + qr_util.length_in_bits(mode, version) + nbits
                     for mode, _count, _value, nbits in segments)
        if needed <= qr_util.BIT_LIMIT_TABLE[ec][version]:
            return version
    raise qr_exceptions.DataOverflowError()


@lru_cache(maxsize=16)
def _generator_logs(degree: int) -> tuple[int, ...]:
    """The Reed-Solomon generator (x - a^0)...(x - a^(degree-1)) below its leading term, as
    logarithms (every coefficient of this product is non-zero)."""
    poly = [1]
    for i in range(degree):
        root = _EXP[i]
        nxt = poly + [0]
        for j, coef in enumerate(poly):
            if coef:
                nxt[j + 1] ^= _EXP[(_LOG[coef] + _LOG[root]) % 255]
        poly = nxt
    return tuple(_LOG[c] for c in poly[1:])


def _ec_bytes(block: list[int], degree: int) -> list[int]:
    """The remainder of block(x) * x^degree divided by the generator."""
    gen = _generator_logs(degree)
    rem = [0] * degree
    for byte in block:
        factor = byte ^ rem[0]
        del rem[0]
        rem.append(0)
        if factor:
            lf = _LOG[factor]
            for i, lg in enumerate(gen):
                rem[i] ^= _EXP[(lf + lg) % 255]
    return rem


@lru_cache(maxsize=32)
def _layout(version: int, ec: int):
    """(the function patterns with None at the data modules, the data modules in placement
    order as flat indices, the mask over them as an integer (first module the highest bit),
    the error-correction blocks)."""
    qr = qrcode.QRCode(version=version, error_correction=ec, border=0, mask_pattern=MASK)
    n = qr.modules_count = version * 4 + 17
    qr.modules = [[None] * n for _ in range(n)]
    qr.setup_position_probe_pattern(0, 0)
    qr.setup_position_probe_pattern(n - 7, 0)
    qr.setup_position_probe_pattern(0, n - 7)
    qr.setup_position_adjust_pattern()
    qr.setup_timing_pattern()
    qr.setup_type_info(False, MASK)
    if version >= 7:
        qr.setup_type_number(False)
    masked = qr_util.mask_func(MASK)
    order, inverts = [], []
    row, step = n - 1, -1
    for col in range(n - 1, 0, -2):  # two columns at a time, from the right, up and down
        if col <= 6:
            col -= 1  # the vertical timing pattern
        while 0 <= row < n:
            for c in (col, col - 1):
                if qr.modules[row][c] is None:
                    order.append(row * n + c)
                    inverts.append(bool(masked(row, c)))
            row += step
        row -= step
        step = -step
    flat = [m for r in qr.modules for m in r]
    mask_bits = int("".join("1" if i else "0" for i in inverts), 2)
    return flat, tuple(order), mask_bits, qr_base.rs_blocks(version, ec)


def _segments_matrix(chunks: list[tuple[int, bytes]], ec: int) -> tuple[tuple[bool, ...], ...]:
    segments = [(mode, len(data), *_SEGMENT_BITS[mode](data)) for mode, data in chunks]
    version = _version_for(segments, ec)
    flat, order, mask_bits, blocks = _layout(version, ec)
    capacity = sum(b.data_count for b in blocks)
    # each segment: mode, character count, data; then up to four 0 bits, 0 bits to a byte
    # and the pad bytes
    bits = nbits = 0
    for mode, count, value, width in segments:
        count_bits = qr_util.length_in_bits(mode, version)
        bits = ((bits << 4 | mode) << count_bits | count) << width | value
        nbits += 4 + count_bits + width
    tail = min(capacity * 8 - nbits, 4)
    tail += (-(nbits + tail)) % 8
    data = list((bits << tail).to_bytes((nbits + tail) // 8, "big"))
    data += [0xEC, 0x11] * ((capacity - len(data)) // 2) + [0xEC] * ((capacity - len(data)) % 2)
    # Reed-Solomon per block, then the blocks' codewords interleaved
    dc, ecc, offset = [], [], 0
    for block in blocks:
        part = data[offset:offset + block.data_count]
        offset += block.data_count
        dc.append(part)
        ecc.append(_ec_bytes(part, block.total_count - block.data_count))
    words = [b[i] for i in range(max(map(len, dc))) for b in dc if i < len(b)]
    words += [b[i] for i in range(max(map(len, ecc))) for b in ecc if i < len(b)]
    # the codewords' bits in placement order (remainder bits 0), masked
    places = len(order)
    stream = int.from_bytes(bytes(words), "big") << (places - 8 * len(words))
    modules = flat[:]
    for at, bit in zip(order, format(stream ^ mask_bits, f"0{places}b"), strict=True):
        modules[at] = bit == "1"
    n = version * 4 + 17
    edge = (False,) * (n + 2 * QUIET_ZONE)
    side = (False,) * QUIET_ZONE
    return ((edge,) * QUIET_ZONE
            + tuple(side + tuple(modules[r * n:(r + 1) * n]) + side for r in range(n))
            + (edge,) * QUIET_ZONE)


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
