"""Fonts with Vietnamese glyphs, shipped with the app (DejaVu Sans, free licence), shared by
every PDF and image that prints Vietnamese text. Never rely on the system's fonts: a PDF
must embed its font, and reportlab's built-in Helvetica has no Vietnamese diacritics."""

from __future__ import annotations

from pathlib import Path

FONT_DIR = Path(__file__).parent / "static" / "fonts"
REGULAR_TTF = FONT_DIR / "DejaVuSans.ttf"
BOLD_TTF = FONT_DIR / "DejaVuSans-Bold.ttf"
#: reportlab font names, usable after :func:`register_fonts`.
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"


def register_fonts() -> tuple[str, str]:
    """Register DejaVu Sans (regular, bold) with reportlab once; returns their names."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if REGULAR not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(REGULAR, str(REGULAR_TTF)))
        pdfmetrics.registerFont(TTFont(BOLD, str(BOLD_TTF)))
        addMapping(REGULAR, 0, 0, REGULAR)
        addMapping(REGULAR, 1, 0, BOLD)
        addMapping(REGULAR, 0, 1, REGULAR)
        addMapping(REGULAR, 1, 1, BOLD)
    return REGULAR, BOLD
