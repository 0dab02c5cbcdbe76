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


#: Liberation Serif 2 (metric-compatible with Times New Roman, full Vietnamese; SIL Open Font
#: Licence 1.1, see static/fonts/LICENSE-LiberationSerif.txt): the official report's font.
SERIF_TTF = {"LiberationSerif": FONT_DIR / "LiberationSerif-Regular.ttf",
             "LiberationSerif-Bold": FONT_DIR / "LiberationSerif-Bold.ttf",
             "LiberationSerif-Italic": FONT_DIR / "LiberationSerif-Italic.ttf"}
SERIF, SERIF_BOLD, SERIF_ITALIC = SERIF_TTF


def register_serif() -> tuple[str, str, str]:
    """Register Liberation Serif (regular, bold, italic) with reportlab once; returns their
    names. Bold italic maps to bold (the decree's layout has no bold italic text)."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if SERIF not in pdfmetrics.getRegisteredFontNames():
        for name, path in SERIF_TTF.items():
            pdfmetrics.registerFont(TTFont(name, str(path)))
        addMapping(SERIF, 0, 0, SERIF)
        addMapping(SERIF, 1, 0, SERIF_BOLD)
        addMapping(SERIF, 0, 1, SERIF_ITALIC)
        addMapping(SERIF, 1, 1, SERIF_BOLD)
    return SERIF, SERIF_BOLD, SERIF_ITALIC
