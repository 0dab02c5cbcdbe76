"""The office's report as an administrative document (Decree 30/2020/NĐ-CP): the frame
around the figures of :mod:`core.services.pdf_report`.

- Letterhead from the office's data: the superior body's name (where there is one) above the
  issuing body's name, both uppercase, the issuing body bold with a short rule; "Số: …/BC-"
  and the office's document symbol; the national name and motto "Độc lập - Tự do - Hạnh
  phúc" (hyphens) with a rule; the place and date "Hà Nội, ngày 05 tháng 12 năm 2026" (a
  leading zero for days below 10 and for months 1 and 2 only), italic.
- Title "BÁO CÁO" and the summary line, bold; parts I (results), II (assessment), III
  (proposals) in 13 pt Liberation Serif (Times-compatible, embedded).
- Page numbers from page 2, centred in the top margin; table headers repeated on each page
  and sized so no word is broken; the signature block kept with the end of part III.
- "Nơi nhận": the bodies configured for the office (``report_recipients``, one per line),
  else its superior office in the tree; then "Lưu: VT". The signer's capacity, title and
  name from the office's data, which a report may override.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from core.extensions import db
from core.models import Office
from core.pdf_fonts import register_serif

#: page geometry (Decree 30: top and bottom 20-25 mm, left 30-35 mm, right 15-20 mm)
MARGINS = {"left": 30 * mm, "right": 15 * mm, "top": 20 * mm, "bottom": 20 * mm}
TEXT_WIDTH = A4[0] - MARGINS["left"] - MARGINS["right"]
MOTTO = "Độc lập - Tự do - Hạnh phúc"
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
ARCHIVE = "Lưu: VT"


def vn_date_line(place: str, day: date) -> str:
    """'Hà Nội, ngày 05 tháng 12 năm 2026': a leading zero for days below 10 and for
    months 1 and 2 only (Decree 30/2020, appendix I)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


@dataclass(frozen=True)
class Letterhead:
    """Everything of the document that comes from the office (and per-report overrides)."""

    superior: str | None
    issuer: str
    symbol: str
    place: str
    signer_capacity: str | None
    signer_title: str
    signer_name: str | None
    recipients: tuple[str, ...] = field(default_factory=tuple)

    def as_json(self) -> dict[str, Any]:
        return {"superior": self.superior, "issuer": self.issuer, "symbol": self.symbol,
                "place": self.place, "signer_capacity": self.signer_capacity,
                "signer_title": self.signer_title, "signer_name": self.signer_name,
                "recipients": list(self.recipients)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Letterhead:
        return cls(**{**data, "recipients": tuple(data.get("recipients") or ())})

    def number_line(self) -> str:
        return f"Số: ……/BC-{self.symbol}"


def _lines(text: str | None) -> tuple[str, ...]:
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


def letterhead_for(office: Office, overrides: dict[str, Any] | None = None) -> Letterhead:
    """The office's letterhead (the superior body: ``superior_name``, else the parent
    office's name; none for the tree's root), signer and recipients; ``overrides`` (signer_capacity,
    signer_title, signer_name, recipients as text, one per line) replace the office's
    values for one report where they are not empty."""
    recipients = _lines(office.report_recipients)
    if not recipients and office.parent is not None:
        recipients = (office.parent.name,)
    head = Letterhead(
        superior=office.superior_name or (office.parent.name if office.parent else None),
        issuer=office.name,
        symbol=office.document_symbol or office.code,
        place=office.place_name or current_app.config["REPORT_PLACE"],
        signer_capacity=office.signer_capacity or None,
        signer_title=office.signer_title or "THỦ TRƯỞNG CƠ QUAN",
        signer_name=office.signer_name or None,
        recipients=recipients)
    changes: dict[str, Any] = {}
    for key in ("signer_capacity", "signer_title", "signer_name"):
        value = ((overrides or {}).get(key) or "").strip()
        if value:
            changes[key] = value
    rec = _lines((overrides or {}).get("recipients"))
    if rec:
        changes["recipients"] = rec
    return replace(head, **changes)


def office_by_code(code: str) -> Office:
    return db.session.execute(sa.select(Office).where(Office.code == code)).scalar_one()


# --- styles ----------------------------------------------------------------------------------

def styles() -> dict[str, ParagraphStyle]:
    """The document's paragraph styles (sizes per Decree 30/2020, appendix I)."""
    regular, bold, italic = register_serif()
    base = ParagraphStyle("body", fontName=regular, fontSize=13, leading=17,
                          alignment=TA_JUSTIFY, firstLineIndent=10 * mm, spaceAfter=4)
    plain = ParagraphStyle("plain", parent=base, firstLineIndent=0, alignment=TA_LEFT)
    centre = ParagraphStyle("centre", parent=plain, alignment=TA_CENTER)
    return {
        "body": base,
        "plain": plain,
        "head_left": ParagraphStyle("head_left", parent=centre, fontSize=12.5, leading=15,
                                    spaceAfter=0),
        "head_left_bold": ParagraphStyle("head_left_bold", parent=centre, fontName=bold,
                                         fontSize=12.5, leading=15, spaceAfter=0),
        "nation": ParagraphStyle("nation", parent=centre, fontName=bold, fontSize=12.5,
                                 leading=15, spaceAfter=0),
        "motto": ParagraphStyle("motto", parent=centre, fontName=bold, fontSize=13.5,
                                leading=16, spaceAfter=0),
        "number": ParagraphStyle("number", parent=centre, fontSize=13, leading=16),
        "date": ParagraphStyle("date", parent=centre, fontName=italic, fontSize=13.5,
                               leading=16),
        "title": ParagraphStyle("title", parent=centre, fontName=bold, fontSize=14,
                                leading=18, spaceBefore=14, spaceAfter=0),
        "summary": ParagraphStyle("summary", parent=centre, fontName=bold, fontSize=13.5,
                                  leading=17, spaceAfter=8),
        "part": ParagraphStyle("part", parent=plain, fontName=bold, fontSize=13, leading=17,
                               spaceBefore=8, spaceAfter=4),
        "h2": ParagraphStyle("h2", parent=plain, fontName=bold, fontSize=13, leading=17,
                             spaceBefore=6, spaceAfter=3),
        "small": ParagraphStyle("small", parent=plain, fontSize=10.5, leading=13,
                                spaceAfter=2),
        "cell": ParagraphStyle("cell", parent=plain, fontSize=10, leading=12, spaceAfter=0),
        "cell_bold": ParagraphStyle("cell_bold", parent=plain, fontName=bold, fontSize=10,
                                    leading=12, spaceAfter=0),
        "recipients_head": ParagraphStyle("recipients_head", parent=plain, fontName=bold,
                                          fontSize=12, leading=14, spaceAfter=0),
        "recipients": ParagraphStyle("recipients", parent=plain, fontSize=11, leading=13,
                                     spaceAfter=0),
        "signer": ParagraphStyle("signer", parent=centre, fontName=bold, fontSize=13.5,
                                 leading=17, spaceAfter=0),
        "signer_note": ParagraphStyle("signer_note", parent=centre, fontName=italic,
                                      fontSize=12, leading=15, spaceAfter=0),
    }


def esc(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Rule(Flowable):
    """A short horizontal rule, centred in its cell (under the issuer and the motto)."""

    def __init__(self, width: float, length: float) -> None:
        super().__init__()
        self.width, self.length, self.height = width, length, 4

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        self.canv.setLineWidth(0.6)
        x = (self.width - self.length) / 2
        self.canv.line(x, 2, x + self.length, 2)


def letterhead_table(head: Letterhead, day: date, st: dict[str, ParagraphStyle]) -> Table:
    """The two columns of the first page: issuer (left) and nation, motto, date (right)."""
    left_w, right_w = 68 * mm, TEXT_WIDTH - 68 * mm
    left: list[Any] = []
    if head.superior:
        left.append(Paragraph(esc(head.superior.upper()), st["head_left"]))
    left.append(Paragraph(esc(head.issuer.upper()), st["head_left_bold"]))
    left.append(Rule(left_w, 22 * mm))
    left.append(Spacer(1, 4))
    left.append(Paragraph(esc(head.number_line()), st["number"]))
    motto_len = stringWidth(MOTTO, st["motto"].fontName, st["motto"].fontSize)
    right = [Paragraph(NATION, st["nation"]), Paragraph(MOTTO, st["motto"]),
             Rule(right_w, motto_len), Spacer(1, 4),
             Paragraph(esc(vn_date_line(head.place, day)), st["date"])]
    table = Table([[left, right]], colWidths=[left_w, right_w])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("FONTNAME", (0, 0), (-1, -1), st["plain"].fontName),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def signature_table(head: Letterhead, st: dict[str, ParagraphStyle]) -> Table:
    """"Nơi nhận" (left) and the signer (right)."""
    left = [Paragraph("<i>Nơi nhận:</i>", st["recipients_head"])]
    items = [*head.recipients, ARCHIVE]
    for i, r in enumerate(items):
        end = "." if i == len(items) - 1 else ";"
        left.append(Paragraph("- " + esc(r.rstrip(";.")) + end, st["recipients"]))
    right: list[Any] = []
    if head.signer_capacity:
        right.append(Paragraph(esc(head.signer_capacity.upper()), st["signer"]))
    right.append(Paragraph(esc(head.signer_title.upper()), st["signer"]))
    right.append(Paragraph("(Ký, ghi rõ họ tên và đóng dấu)", st["signer_note"]))
    right.append(Spacer(1, 24 * mm))
    if head.signer_name:
        right.append(Paragraph(esc(head.signer_name), st["signer"]))
    table = Table([[left, right]], colWidths=[72 * mm, TEXT_WIDTH - 72 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("FONTNAME", (0, 0), (-1, -1), st["plain"].fontName),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return table


# --- tables ----------------------------------------------------------------------------------

def header_font_size(texts: list[str], widths: list[float], font: str, size: float = 9.5,
                     smallest: float = 6.0, padding: float = 6.0) -> float:
    """The largest size (down to ``smallest``, by half points) at which every word of every
    header fits its column: a header may wrap between words, never inside one."""
    while size > smallest:
        if all(stringWidth(word, font, size) <= width - padding
               for text, width in zip(texts, widths, strict=True) for word in text.split()):
            return size
        size -= 0.5
    return smallest


def grid(rows: list[list[Any]], widths: list[float], *, header_rows: int = 1,
         align_right_from: int = 2, extra: list[tuple] | None = None,
         cell_size: float = 9) -> Table:
    """A table whose header repeats on every page; header texts wrap only between words."""
    regular, bold, _italic = register_serif()
    texts = [c if isinstance(c, str) else "" for c in rows[0]]
    size = header_font_size(texts, widths, bold)
    head = ParagraphStyle("grid_head", fontName=bold, fontSize=size, leading=size + 1.5,
                          alignment=TA_CENTER, splitLongWords=0)
    rows = [[Paragraph(esc(c), head) if isinstance(c, str) else c for c in row]
            for row in rows[:header_rows]] + rows[header_rows:]
    table = Table(rows, colWidths=widths, repeatRows=header_rows)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), regular),
        ("FONTSIZE", (0, 0), (-1, -1), cell_size),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#777777")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (align_right_from, header_rows), (-1, -1), "RIGHT"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        *(extra or []),
    ]))
    return table


# --- the document ----------------------------------------------------------------------------

def _page_number(canvas: Any, doc: Any) -> None:
    """From page 2: the page number, centred in the top margin (13 pt)."""
    canvas.saveState()
    canvas.setFont(register_serif()[0], 13)
    canvas.drawCentredString(MARGINS["left"] + TEXT_WIDTH / 2, A4[1] - 12 * mm,
                             str(doc.page))
    canvas.restoreState()


def build_document(*, head: Letterhead, day: date, summary: str,
                   results: Callable[[dict[str, ParagraphStyle]], list[Any]],
                   assessment: list[str], proposals: list[str], meta: dict[str, str]
                   ) -> bytes:
    """The PDF: letterhead, title and summary line, I. results (flowables made by
    ``results`` with the document's styles), II. assessment, III. proposals (paragraphs of
    plain text), then "Nơi nhận" and the signer, kept with the last paragraph."""
    st = styles()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=MARGINS["left"],
                            rightMargin=MARGINS["right"], topMargin=MARGINS["top"],
                            bottomMargin=MARGINS["bottom"], initialFontName=st["body"].fontName,
                            initialFontSize=13, **meta)
    story: list[Any] = [letterhead_table(head, day, st),
                        Paragraph(esc(_("REPORT")), st["title"]),
                        Paragraph(esc(summary), st["summary"]),
                        Rule(TEXT_WIDTH, 40 * mm), Spacer(1, 6)]
    story.append(Paragraph(esc(_("I. SURVEY RESULTS")), st["part"]))
    story += results(st)
    story.append(Paragraph(esc(_("II. ASSESSMENT")), st["part"]))
    story += [Paragraph(esc(p), st["body"]) for p in assessment]
    story.append(Paragraph(esc(_("III. PROPOSALS AND RECOMMENDATIONS")), st["part"]))
    paragraphs = [Paragraph(esc(p), st["body"]) for p in proposals] or [
        Paragraph(esc(_("None.")), st["body"])]
    story += paragraphs[:-1]
    # the signature block never stands alone: it goes with the last paragraph
    story.append(KeepTogether([paragraphs[-1], Spacer(1, 6 * mm),
                               signature_table(head, st)]))
    doc.build(story, onLaterPages=_page_number)
    return buf.getvalue()
