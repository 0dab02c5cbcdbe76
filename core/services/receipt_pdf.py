"""Printable PDFs of the QR survey (reportlab): an A4 sheet of receipt slips for desks that
pre-print, and a poster per counter with the QR of the office's generic link.

Text is set in DejaVu Sans (embedded), so Vietnamese diacritics print and stay searchable.
QR codes are drawn as vector paths from the module matrix: sharp at any printer resolution.
Call inside an app context with the wanted locale active (texts go through gettext).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from flask_babel import gettext as _
from reportlab.lib.pagesizes import A4, A5
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from core.pdf_fonts import register_fonts
from core.questionnaire import time_estimate
from core.services.qrcodes import dark_runs, qr_matrix

PAGE_SIZES = {"A4": A4, "A5": A5}


@dataclass
class Slip:
    url: str
    dossier_code: str | None = None
    procedure: str | None = None


def draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float,
            level: str = "Q") -> None:
    """Draw the QR code of ``data`` (quiet zone included) in the square of side ``size``
    whose bottom-left corner is (x, y)."""
    matrix = qr_matrix(data, level)
    n = len(matrix)
    cell = size / n
    # each run overlaps its neighbours by a hair, so rasterisers leave no light seams
    # between rows (seams make a code hard to read on screen and on some printers)
    eps = cell * 0.03
    path = canvas.beginPath()
    for row_index, start, length in dark_runs(matrix):
        top = y + size - (row_index + 1) * cell
        path.rect(x + start * cell, top - eps, length * cell + eps, cell + eps)
    canvas.saveState()
    canvas.setFillColorRGB(0, 0, 0)
    canvas.drawPath(path, fill=1, stroke=0)
    canvas.restoreState()


def _lines(canvas: Canvas, text: str, font: str, size: float, x: float, y: float,
           width: float, leading: float | None = None, centred: bool = False) -> float:
    """Draw ``text`` wrapped to ``width`` starting at baseline ``y``; returns the next y."""
    leading = leading or size * 1.3
    canvas.setFont(font, size)
    for line in simpleSplit(text, font, size, width):
        if centred:
            canvas.drawCentredString(x + width / 2, y, line)
        else:
            canvas.drawString(x, y, line)
        y -= leading
    return y


def slips_pdf(slips: list[Slip], office_name: str, cols: int = 3, rows: int = 4) -> bytes:
    """An A4 sheet (several pages if needed) of ``cols`` x ``rows`` slips, with dashed cut
    lines; each slip has the office name, the QR, instructions and the dossier code."""
    regular, bold = register_fonts()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle(_("Survey slips – %(office)s", office=office_name))
    canvas.setAuthor("SIPAS")
    page_w, page_h = A4
    margin = 8 * mm
    cell_w = (page_w - 2 * margin) / cols
    cell_h = (page_h - 2 * margin) / rows
    per_page = cols * rows
    heading = _("Satisfaction survey")
    instruction = _("Scan the QR code with your phone camera to rate how your dossier was "
                    "handled. One rating per dossier; your name is not asked.")
    for index, slip in enumerate(slips):
        if index and index % per_page == 0:
            canvas.showPage()
        pos = index % per_page
        col, row = pos % cols, pos // cols
        x0 = margin + col * cell_w
        y0 = page_h - margin - (row + 1) * cell_h
        if pos == 0:
            canvas.saveState()
            canvas.setDash(3, 3)
            canvas.setLineWidth(0.3)
            canvas.setStrokeGray(0.6)
            for c in range(cols + 1):
                canvas.line(margin + c * cell_w, margin, margin + c * cell_w, page_h - margin)
            for r in range(rows + 1):
                canvas.line(margin, margin + r * cell_h, page_w - margin, margin + r * cell_h)
            canvas.restoreState()
        pad = 4 * mm
        inner_w = cell_w - 2 * pad
        y = y0 + cell_h - pad - 9
        y = _lines(canvas, office_name, bold, 8.5, x0 + pad, y, inner_w, centred=True)
        y = _lines(canvas, heading, regular, 8, x0 + pad, y, inner_w, centred=True)
        qr_size = min(inner_w, cell_h * 0.52)
        y_qr = y - qr_size + 4
        draw_qr(canvas, slip.url, x0 + (cell_w - qr_size) / 2, y_qr, qr_size)
        y = _lines(canvas, instruction, regular, 6.8, x0 + pad, y_qr - 6, inner_w, centred=True)
        if slip.dossier_code:
            _lines(canvas, _("Dossier: %(code)s", code=slip.dossier_code), regular, 6.8,
                   x0 + pad, max(y - 1, y0 + pad + 2), inner_w, centred=True)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def poster_pdf(office_name: str, url: str, size: str = "A4", counter: str | None = None) -> bytes:
    """A counter poster: office name, instructions in the active language and a large QR of
    the office's generic link, with the link printed for those who type it. Raises KeyError
    for a size other than A4 or A5."""
    regular, bold = register_fonts()
    page_w, page_h = PAGE_SIZES[size.upper()]
    scale = page_w / A4[0]
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(page_w, page_h), pageCompression=1)
    canvas.setTitle(_("Survey poster – %(office)s", office=office_name))
    canvas.setAuthor("SIPAS")
    margin = 18 * mm * scale
    width = page_w - 2 * margin
    y = page_h - margin - 20 * scale
    y = _lines(canvas, office_name, bold, 20 * scale, margin, y, width, centred=True)
    if counter:
        y = _lines(canvas, counter, regular, 15 * scale, margin, y, width, centred=True)
    y -= 6 * scale
    y = _lines(canvas, _("Please tell us how satisfied you are with our service"), bold,
               24 * scale, margin, y, width, centred=True)
    qr_size = min(width * 0.72, y - margin - 120 * scale)
    y_qr = y - qr_size
    draw_qr(canvas, url, (page_w - qr_size) / 2, y_qr, qr_size)
    y = y_qr - 4 * scale
    y = _lines(canvas, url, regular, 10 * scale, margin, y, width, centred=True)
    y -= 8 * scale
    steps = [
        _("1. Open your phone camera and point it at the QR code."),
        _("2. Tap the link that appears."),
        _("3. Answer the questions. Your name is not asked.") + " " + time_estimate(),
    ]
    for step in steps:
        y = _lines(canvas, step, regular, 14 * scale, margin + 10 * scale, y, width - 20 * scale)
    y -= 6 * scale
    _lines(canvas, _("Thank you: your opinion helps us serve you better."), bold,
           14 * scale, margin, y, width, centred=True)
    canvas.showPage()
    canvas.save()
    return out.getvalue()
