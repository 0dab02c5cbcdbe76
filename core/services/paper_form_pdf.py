"""The blank paper questionnaire (A4, reportlab), generated from the instrument: what staff
print for citizens who answer on paper, laid out like the import file.

Every box on the sheet names the column it is typed into (``office_code``, ``submitted_at``,
``form_no``, each criterion code, ``procedure``, ``expectations.<area>``,
``demographics.<question>``, ``comment``: :func:`core.services.imports.template_header`), so
the typed file imports without a mapping step. Criterion wording comes from the instrument
(never from gettext). Text is set in DejaVu Sans, embedded (:mod:`core.pdf_fonts`).
Call inside an app context with the wanted locale active.
"""

from __future__ import annotations

import io

from flask_babel import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from core.instrument import Instrument
from core.pdf_fonts import register_fonts
from core.services.imports import DEMOGRAPHIC_PREFIX, EXPECTATION_PREFIX

MARGIN = 14 * mm
BOX = 4.2 * mm
GREY = (0.45, 0.45, 0.45)


class _Sheet:
    """A canvas with a cursor that starts a new page when the next block does not fit."""

    def __init__(self, title: str, footer: str) -> None:
        self.out = io.BytesIO()
        self.regular, self.bold = register_fonts()
        self.canvas = Canvas(self.out, pagesize=A4, pageCompression=1)
        self.canvas.setTitle(title)
        self.canvas.setAuthor("SIPAS")
        self.width, self.height = A4
        self.footer = footer
        self.page = 1
        self.y = self.height - MARGIN

    def need(self, height: float) -> None:
        if self.y - height < MARGIN + 8 * mm:
            self._footer()
            self.canvas.showPage()
            self.page += 1
            self.y = self.height - MARGIN

    def _footer(self) -> None:
        c = self.canvas
        c.setFont(self.regular, 7)
        c.setFillColorRGB(*GREY)
        c.drawString(MARGIN, MARGIN - 2 * mm, self.footer)
        c.drawRightString(self.width - MARGIN, MARGIN - 2 * mm,
                          _("Page %(n)s", n=self.page))
        c.setFillColorRGB(0, 0, 0)

    def text(self, text: str, size: float = 9, bold: bool = False, x: float = MARGIN,
             width: float | None = None, leading: float | None = None) -> None:
        font = self.bold if bold else self.regular
        width = width or self.width - MARGIN - x
        leading = leading or size * 1.3
        lines = simpleSplit(text, font, size, width)
        self.need(leading * len(lines))
        self.canvas.setFont(font, size)
        for line in lines:
            self.y -= leading
            self.canvas.drawString(x, self.y + leading * 0.25, line)

    def column_tag(self, x: float, y: float, name: str) -> None:
        """The import column a box goes to, small and grey."""
        self.canvas.setFont(self.regular, 6)
        self.canvas.setFillColorRGB(*GREY)
        self.canvas.drawString(x, y, name)
        self.canvas.setFillColorRGB(0, 0, 0)

    def box(self, x: float, y: float, size: float = BOX) -> None:
        self.canvas.setLineWidth(0.7)
        self.canvas.rect(x, y, size, size, stroke=1, fill=0)

    def finish(self) -> bytes:
        self._footer()
        self.canvas.save()
        return self.out.getvalue()


def blank_form_pdf(instrument: Instrument, locale: str = "vi",
                   office_code: str | None = None) -> bytes:
    """The blank A4 questionnaire of ``instrument`` in ``locale``; ``office_code`` is
    printed in the office box when given."""
    title = instrument.title.get(locale)
    sheet = _Sheet(title, _("SIPAS paper questionnaire, instrument %(id)s: type each box into "
                            "the column named under it.", id=instrument.id))
    c = sheet.canvas
    sheet.text(title.upper(), size=12, bold=True)
    sheet.y -= 2 * mm
    _header_fields(sheet, office_code)
    sheet.y -= 3 * mm
    scale = [(value, label.get(locale)) for value, label in instrument.scale]
    sheet.text(_("Tick one box per line: %(scale)s; “%(none)s” if the question does not apply "
                 "to you.", scale="; ".join(f"{v} = {t}" for v, t in scale),
                 none=instrument.no_answer.get(locale)), size=8.5)
    sheet.y -= 2 * mm
    columns = [str(v) for v in sorted(v for v, _t in instrument.scale)]
    col_w, last_w = 9 * mm, 18 * mm  # the scale, then "no answer"
    grid_x = sheet.width - MARGIN - col_w * len(columns) - last_w

    def box_x(i: int) -> float:
        width = col_w if i < len(columns) else last_w
        return grid_x + col_w * i + (width - BOX) / 2
    text_x = MARGIN + 11 * mm
    text_w = grid_x - text_x - 3 * mm

    def grid_head() -> None:
        sheet.need(6 * mm)
        sheet.y -= 5 * mm
        c.setFont(sheet.bold, 7.5)
        for i, label in enumerate(columns):
            c.drawCentredString(grid_x + col_w * i + col_w / 2, sheet.y + 1.2 * mm, label)
        c.setFont(sheet.bold, 6.5)
        c.drawCentredString(grid_x + col_w * len(columns) + last_w / 2, sheet.y + 1.2 * mm,
                            _("No answer"))

    for dimension in instrument.dimensions:
        sheet.need(16 * mm)
        sheet.y -= 2 * mm
        sheet.text(f"{dimension.code}. {dimension.name.get(locale)}", size=9.5, bold=True)
        grid_head()
        for criterion in dimension.criteria:
            lines = simpleSplit(criterion.text.get(locale), sheet.regular, 8.5, text_w)
            height = max(len(lines) * 3.8 * mm, 6.5 * mm)
            sheet.need(height)
            top = sheet.y
            sheet.y -= height
            c.setLineWidth(0.3)
            c.setStrokeColorRGB(0.8, 0.8, 0.8)
            c.line(MARGIN, sheet.y, sheet.width - MARGIN, sheet.y)
            c.setStrokeColorRGB(0, 0, 0)
            c.setFont(sheet.bold, 8.5)
            c.drawString(MARGIN, top - 3.5 * mm, criterion.code)
            c.setFont(sheet.regular, 8.5)
            for n, line in enumerate(lines):
                c.drawString(text_x, top - 3.5 * mm - n * 3.8 * mm, line)
            box_y = sheet.y + (height - BOX) / 2
            for i in range(len(columns) + 1):
                sheet.box(box_x(i), box_y)
    sheet.y -= 4 * mm
    _procedure(sheet)
    _expectations(sheet, instrument, locale)
    _demographics(sheet, instrument, locale)
    _comment(sheet)
    return sheet.finish()


def _header_fields(sheet: _Sheet, office_code: str | None) -> None:
    """Office, date and form number: three labelled boxes."""
    c = sheet.canvas
    sheet.need(16 * mm)
    fields = [(_("Office code"), "office_code", office_code or ""),
              (_("Date (dd/mm/yyyy)"), "submitted_at (YYYY-MM-DD)", "      /      /"),
              (_("Form number"), "form_no", "")]
    width = (sheet.width - 2 * MARGIN - 8 * mm) / 3
    top = sheet.y
    for i, (label, column, value) in enumerate(fields):
        x = MARGIN + i * (width + 4 * mm)
        c.setFont(sheet.bold, 8.5)
        c.drawString(x, top - 3.5 * mm, label)
        c.setLineWidth(0.7)
        c.rect(x, top - 12 * mm, width, 7 * mm, stroke=1, fill=0)
        if value:
            c.setFont(sheet.regular, 10)
            c.drawString(x + 2 * mm, top - 9.8 * mm, value)
        sheet.column_tag(x, top - 14.5 * mm, column)
    sheet.y = top - 16 * mm


def _procedure(sheet: _Sheet) -> None:
    sheet.need(14 * mm)
    sheet.text(_("Administrative procedure you came for"), size=9.5, bold=True)
    c = sheet.canvas
    sheet.y -= 7 * mm
    c.setLineWidth(0.5)
    c.line(MARGIN, sheet.y, sheet.width - MARGIN, sheet.y)
    sheet.column_tag(MARGIN, sheet.y - 2.5 * mm, "procedure")
    sheet.y -= 5 * mm


def _expectations(sheet: _Sheet, instrument: Instrument, locale: str) -> None:
    if not instrument.expectation_areas:
        return
    c = sheet.canvas
    sheet.need(30 * mm)
    sheet.text(instrument.expectation_question.get(locale), size=9.5, bold=True)
    levels = list(instrument.expectation_levels)
    col_w = 20 * mm
    grid_x = sheet.width - MARGIN - col_w * len(levels)
    sheet.y -= 4.5 * mm
    c.setFont(sheet.bold, 7.5)
    for i, (value, label) in enumerate(levels):
        c.drawCentredString(grid_x + col_w * i + col_w / 2, sheet.y + 1 * mm,
                            f"{label.get(locale)} ({value})")
    for area in instrument.expectation_areas:
        lines = simpleSplit(area.label.get(locale), sheet.regular, 8.5, grid_x - MARGIN - 4 * mm)
        height = max(len(lines) * 3.8 * mm + 2.8 * mm, 8 * mm)
        sheet.need(height)
        top = sheet.y
        sheet.y -= height
        c.setFont(sheet.regular, 8.5)
        for n, line in enumerate(lines):
            c.drawString(MARGIN, top - 3.5 * mm - n * 3.8 * mm, line)
        sheet.column_tag(MARGIN, sheet.y + 1 * mm, EXPECTATION_PREFIX + area.code)
        for i in range(len(levels)):
            sheet.box(grid_x + col_w * i + (col_w - BOX) / 2, sheet.y + (height - BOX) / 2)
    sheet.y -= 4 * mm


def _demographics(sheet: _Sheet, instrument: Instrument, locale: str) -> None:
    if not instrument.demographics:
        return
    c = sheet.canvas
    sheet.need(12 * mm)
    sheet.text(_("About you (optional)"), size=9.5, bold=True)
    for question in instrument.demographics:
        sheet.need(12 * mm)
        sheet.y -= 1.5 * mm
        sheet.text(question.label.get(locale), size=8.5, bold=True)
        x = MARGIN
        sheet.y -= 5.5 * mm
        c.setFont(sheet.regular, 8.5)
        for option in question.options:
            label = f"{option.label.get(locale)}"
            w = BOX + 2 * mm + c.stringWidth(label, sheet.regular, 8.5) + 6 * mm
            if x + w > sheet.width - MARGIN:
                x = MARGIN
                sheet.y -= 6 * mm
                sheet.need(6 * mm)
            sheet.box(x, sheet.y - 0.8 * mm)
            c.setFont(sheet.regular, 8.5)
            c.drawString(x + BOX + 1.5 * mm, sheet.y, label)
            x += w
        sheet.column_tag(MARGIN, sheet.y - 4 * mm, DEMOGRAPHIC_PREFIX + question.code)
        sheet.y -= 4.5 * mm


def _comment(sheet: _Sheet) -> None:
    c = sheet.canvas
    sheet.need(36 * mm)
    sheet.y -= 2 * mm
    sheet.text(_("Other comments"), size=9.5, bold=True)
    sheet.text(_("Please do not write your name, phone number or dossier code here."),
               size=7.5)
    top = sheet.y - 1 * mm
    c.setLineWidth(0.7)
    c.rect(MARGIN, top - 26 * mm, sheet.width - 2 * MARGIN, 26 * mm, stroke=1, fill=0)
    sheet.y = top - 26 * mm
    sheet.column_tag(MARGIN, sheet.y - 2.5 * mm, "comment")
    sheet.y -= 4 * mm
