"""The monthly report as a PDF in the style of a Vietnamese administrative document
(Decree 30/2020/NĐ-CP layout: issuing body left, national motto right, place and date,
title, body, recipients and signature), with embedded DejaVu fonts.

Renders the data of :func:`core.services.dashboard.build_dashboard`, so its figures are the
dashboard's. Labels follow the active locale; the national header stays in Vietnamese.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from core.i18n import fmt_date, fmt_month, fmt_number, fmt_percent, fmt_points
from core.models import Office
from core.pdf_fonts import REGULAR, register_fonts
from core.timeutil import VN_TZ, utcnow

LINE_COLOURS = [colors.HexColor(c) for c in
                ("#0b5394", "#b45f06", "#38761d", "#741b47", "#134f5c", "#7f6000")]


def _styles(regular: str, bold: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=regular, fontSize=9.5, leading=12)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10),
        "centre": ParagraphStyle("centre", parent=base, alignment=TA_CENTER),
        "centre_bold": ParagraphStyle("centre_bold", parent=base, fontName=bold,
                                      alignment=TA_CENTER),
        "title": ParagraphStyle("title", parent=base, fontName=bold, fontSize=14, leading=18,
                                alignment=TA_CENTER, spaceBefore=8),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontName=bold, fontSize=11,
                                   leading=14, alignment=TA_CENTER, spaceAfter=6),
        "h2": ParagraphStyle("h2", parent=base, fontName=bold, fontSize=11, leading=14,
                             spaceBefore=10, spaceAfter=4, alignment=TA_LEFT),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=9.5),
        "cell_bold": ParagraphStyle("cell_bold", parent=base, fontName=bold, fontSize=8,
                                    leading=9.5),
    }


def _esc(text: Any) -> str:
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def _date_line(place: str, today: date) -> str:
    return f"{place}, ngày {today.day:02d} tháng {today.month:02d} năm {today.year}"


def _header(data: dict[str, Any], st: dict[str, ParagraphStyle], today: date) -> Table:
    office, parent = data["office"], data["parent"]
    left = []
    if parent is not None:
        left.append(Paragraph(_esc(parent["name"].upper()), st["centre"]))
    left.append(Paragraph(_esc(office["name"].upper()), st["centre_bold"]))
    left.append(Paragraph("———", st["centre"]))
    left.append(Paragraph(f"Số: ....../BC-{_esc(office['code'])}", st["centre"]))
    right = [Paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", st["centre_bold"]),
             Paragraph("Độc lập – Tự do – Hạnh phúc", st["centre_bold"]),
             Paragraph("———————————", st["centre"]),
             Paragraph(_esc(_date_line(current_app.config["REPORT_PLACE"], today)),
                       st["centre"])]
    table = Table([[left, right]], colWidths=[70 * mm, 95 * mm])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("FONTNAME", (0, 0), (-1, -1), REGULAR),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return table


def _grid(rows: list[list[Any]], widths: list[float], bold: str, header_rows: int = 1,
          align_right_from: int = 2) -> Table:
    head = ParagraphStyle("head", fontName=bold, fontSize=7.5, leading=9)
    rows = [[Paragraph(_esc(c), head) if isinstance(c, str) else c for c in row]
            for row in rows[:header_rows]] + rows[header_rows:]
    table = Table(rows, colWidths=widths, repeatRows=header_rows)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), REGULAR),
        ("FONTNAME", (0, 0), (-1, header_rows - 1), bold),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#888888")),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#e8eef6")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (align_right_from, header_rows), (-1, -1), "RIGHT"),
    ]))
    return table


class TrendChart(Flowable):
    """The 12-month trend drawn straight on the canvas with the embedded fonts."""

    def __init__(self, data: dict[str, Any], regular: str, bold: str) -> None:
        super().__init__()
        self.data, self.regular, self.bold = data, regular, bold
        self.width, self.height = 165 * mm, 62 * mm

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        c = self.canv
        series = self.data["trend"]
        width, height = self.width, self.height
        left, bottom, top, right = 30.0, 28.0, 8.0, 8.0
        values = [s["overall"] for s in series if s["overall"] is not None]
        for s in series:
            values += [v for v in s["dimensions"].values() if v is not None]
        lo = min(max(0.0, (int(min(values) - 2) // 5) * 5), 90.0) if values else 50.0
        hi = 100.0
        pw, ph = width - left - right, height - bottom - top
        n = len(series)

        def x(i: int) -> float:
            return left + (pw * i / (n - 1) if n > 1 else pw / 2)

        def y(v: float) -> float:
            return bottom + ph * (v - lo) / (hi - lo)

        step = 5 if hi - lo <= 30 else 10
        c.setFont(self.regular, 7)
        c.setLineWidth(0.4)
        c.setStrokeColor(colors.HexColor("#dddddd"))
        v = lo
        while v <= hi:
            c.line(left, y(v), width - right, y(v))
            c.drawRightString(left - 4, y(v) - 2.5, f"{int(v)}")
            v += step
        c.setFont(self.regular, 6.5)
        for i, s in enumerate(series):
            c.drawCentredString(x(i), bottom - 10, s["month"][5:] + "/" + s["month"][2:4])
        keys: list[tuple[str | None, str]] = [(None, _("Overall index"))]
        keys += [(dim.code, dim.code) for dim in self.data["instrument"].dimensions]
        c.setFont(self.regular, 7)
        for k, (key, label) in enumerate(keys):
            colour = LINE_COLOURS[k % len(LINE_COLOURS)]
            c.setStrokeColor(colour)
            c.setLineWidth(2 if key is None else 0.8)
            prev = None
            for i, s in enumerate(series):
                val = s["overall"] if key is None else s["dimensions"].get(key)
                if val is None:
                    prev = None
                    continue
                point = (x(i), y(val))
                if prev is not None:
                    c.line(*prev, *point)
                elif key is None:
                    c.circle(*point, 1.2, stroke=1, fill=0)
                prev = point
            lx = left + k * (pw / len(keys))
            c.setLineWidth(2)
            c.line(lx, 6, lx + 12, 6)
            c.setFillColor(colors.black)
            c.drawString(lx + 15, 3.5, label)


def render_pdf(data: dict[str, Any], lang: str = "vi") -> bytes:
    """The monthly report PDF for a dashboard's data (A4, embedded fonts)."""
    regular, bold = register_fonts()
    st = _styles(regular, bold)
    today = utcnow().astimezone(VN_TZ).date()
    office, month = data["office"], data["month"]
    report = data["report"]
    ms = data["min_sample"]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=30 * mm, rightMargin=15 * mm,
                            topMargin=20 * mm, bottomMargin=20 * mm,
                            initialFontName=regular, initialFontSize=9.5,
                            title=_("SIPAS monthly report %(office)s %(month)s",
                                    office=office["code"], month=month),
                            author=office["name"], subject="SIPAS")
    story: list[Any] = [_header(data, st, today),
                        Paragraph(_("REPORT"), st["title"]),
                        Paragraph(_esc(_("Citizens' satisfaction with the service of %(office)s, "
                                         "%(month)s", office=office["name"],
                                         month=fmt_month(month, lang))), st["subtitle"])]
    story.append(Paragraph(_esc(_(
        "%(n)s responses were counted this month. Indices are the share of answers "
        "'satisfied' or 'very satisfied' among the answers given; figures marked * rest on "
        "fewer than %(min)s answers and are not precise.",
        n=fmt_number(report["responses"], lang), min=ms)), st["base"]))

    story.append(Paragraph(_esc(_("1. Headline figures")), st["h2"]))
    rows: list[list[Any]] = [["", _("Index"), "n", _("Value"), _("vs %(month)s",
                              month=fmt_month(data["previous_month"], lang)),
                              _("vs %(month)s", month=fmt_month(data["last_year_month"], lang)),
                              _("Target"), _("Gap")]]
    for h in data["headline"]:
        name = _("Overall index") if h["code"] == "overall" else h["name"]
        rows.append(["" if h["code"] == "overall" else h["code"],
                     Paragraph(_esc(name), st["cell_bold" if h["code"] == "overall" else "cell"]),
                     fmt_number(h["n"], lang),
                     fmt_percent(h["index"], lang) + (" *" if h["low_sample"] else ""),
                     fmt_points(h["delta_previous"], lang), fmt_points(h["delta_last_year"], lang),
                     fmt_percent(h["target"], lang), fmt_points(h["gap"], lang)])
    story.append(_grid(rows, [10 * mm, 50 * mm, 14 * mm, 18 * mm, 20 * mm, 20 * mm, 16 * mm,
                              16 * mm], bold, align_right_from=2))

    story.append(Paragraph(_esc(_("2. Criteria")), st["h2"]))
    ci_label = _("Confidence interval") + " 95 %"
    rows = [[_("Code"), _("Criterion"), _("Index"), ci_label, _("Answered"),
             _("No answer"), _("Target"), _("Gap")]]
    for c in data["criteria"]:
        ci = (f"{fmt_percent(c['ci95'][0], lang)} – {fmt_percent(c['ci95'][1], lang)}"
              if c["ci95"] else "—")
        rows.append([c["code"], Paragraph(_esc(c["text"]), st["cell"]),
                     fmt_percent(c["index"], lang) + (" *" if c["low_sample"] else ""),
                     Paragraph(ci, st["cell"]), fmt_number(c["answered"], lang),
                     fmt_number(c["no_answer"], lang), fmt_percent(c["target"], lang),
                     fmt_points(c["gap"], lang)])
    story.append(_grid(rows, [11 * mm, 52 * mm, 17 * mm, 25 * mm, 15 * mm, 14 * mm, 15 * mm,
                              16 * mm], bold, align_right_from=2))

    story.append(KeepTogether([
        Paragraph(_esc(_("3. Trend over 12 months")), st["h2"]),
        TrendChart(data, regular, bold)]))

    if data["children"]:
        story.append(Paragraph(_esc(_("4. Offices below")), st["h2"]))
        rows = [[_("Rank"), _("Office"), "n", _("Overall index"), ci_label]]
        for ch in data["children"]:
            ci = (f"{fmt_percent(ch['ci95'][0], lang)} – {fmt_percent(ch['ci95'][1], lang)}"
                  if ch["ci95"] else "—")
            rows.append([str(ch["rank"]) if ch["rank"] else "*",
                         Paragraph(_esc(ch["name"]), st["cell"]),
                         fmt_number(ch["responses"], lang), fmt_percent(ch["overall"], lang),
                         ci])
        story.append(_grid(rows, [12 * mm, 70 * mm, 18 * mm, 25 * mm, 40 * mm], bold,
                           align_right_from=2))
        story.append(Paragraph(_esc(_(
            "Offices are ranked by the lower bound of the interval; * = fewer than %(min)s "
            "responses, not ranked.", min=ms)), st["small"]))

    if data["channels"]:
        story.append(Paragraph(_esc(_("Responses by channel: %(list)s", list="; ".join(
            f"{_channel_label(c['channel'])} {fmt_number(c['responses'], lang)} "
            f"({fmt_percent(c['share'], lang)})" for c in data["channels"]))), st["base"]))

    recipients = [Paragraph(_esc(_("Recipients:")), st["cell_bold"]),
                  Paragraph("- " + _esc(_("Department of Home Affairs;")), st["cell"]),
                  Paragraph("- " + _esc(_("Archived.")), st["cell"])]
    signature = [Paragraph(_esc(_("HEAD OF THE OFFICE")), st["centre_bold"]),
                 Paragraph(_esc(_("(Signature, full name and seal)")), st["centre"]),
                 Spacer(1, 22 * mm)]
    sig = Table([[recipients, signature]], colWidths=[75 * mm, 90 * mm])
    sig.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                             ("FONTNAME", (0, 0), (-1, -1), regular)]))
    story += [Spacer(1, 8 * mm), KeepTogether([sig]),
              Paragraph(_esc(_("Generated by SIPAS on %(date)s.", date=fmt_date(today, lang))),
                        st["small"])]
    doc.build(story)
    return buf.getvalue()


def monthly_report_pdf(office: Office, report: dict[str, Any], lang: str = "vi") -> bytes:
    """The PDF of a monthly report already computed for ``office``
    (:func:`core.services.reports.monthly_report`): the same dashboard figures and the same
    document as the results area's download. Raises Invalid for a bad month or instrument."""
    from core.services.dashboard import build_dashboard

    return render_pdf(build_dashboard(office, report["month"], locale=lang, report=report),
                      lang)


def _channel_label(channel: str) -> str:
    return {"kiosk": _("desk tablet"), "qr": _("QR code"), "generic": _("generic link"),
            "paper": _("paper"), "web": _("web")}.get(channel, channel)
