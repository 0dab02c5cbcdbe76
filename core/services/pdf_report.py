"""The monthly report as a PDF: an administrative document (Decree 30/2020/NĐ-CP, framed by
:mod:`core.services.official_report`) whose part I is the figures built here, with the
embedded Liberation Serif.

Renders the data of :func:`core.services.dashboard.build_dashboard`, so its figures are the
dashboard's. Labels follow the active locale; the national header stays in Vietnamese.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    Table,
)

from core.i18n import fmt_number, fmt_percent, fmt_period, fmt_points, fmt_target
from core.models import Office
from core.services.labels import level_label
from core.services.reports import COMPARISONS
from core.timeutil import VN_TZ, utcnow

LINE_COLOURS = [colors.HexColor(c) for c in
                ("#0b5394", "#b45f06", "#38761d", "#741b47", "#134f5c", "#7f6000")]


def _esc(text: Any) -> str:
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def _grid(rows: list[list[Any]], widths: list[float], bold: str, header_rows: int = 1,
          align_right_from: int = 2, extra: list[tuple] | None = None) -> Table:
    from core.services.official_report import grid

    return grid(rows, widths, header_rows=header_rows, align_right_from=align_right_from,
                extra=extra)


def _short_month(month: str) -> str:
    """'2022-06' -> '6/2022' (a table header); another period's label as it is."""
    if len(month) != 7 or month[4] != "-" or not month[5:].isdigit():
        return month
    return f"{int(month[5:7])}/{month[:4]}"


def _ci_text(ci: list[float] | None, lang: str) -> str:
    """'88,33–89,54 %' (both bounds displayed with two decimals)."""
    if not ci:
        return "—"
    return f"{fmt_points(ci[0], lang, signed=False)}–{fmt_percent(ci[1], lang)}"


def _change_cell(change: dict[str, Any] | None, lang: str, st: dict[str, ParagraphStyle],
                 grey: colors.Color) -> Any:
    """A change in points: black and bold when significant, grey when not (shown, not
    hidden), 'not comparable' below the minimum sample, '—' when there is none."""
    if change is None:
        return "—"
    if not change["comparable"]:
        return Paragraph(_esc(_("not comparable")), ParagraphStyle(
            "nc", parent=st["cell"], textColor=grey, fontSize=7))
    text = fmt_points(change["delta"], lang)
    if change["significant"]:
        return Paragraph(_esc(text), ParagraphStyle("sig", parent=st["cell_bold"],
                                                    alignment=2))
    return Paragraph(_esc(text), ParagraphStyle("ns", parent=st["cell"], textColor=grey,
                                                alignment=2))


def _gap_text(target: dict[str, Any] | None, lang: str) -> str:
    if target is None or target["met"] is None:
        return "—"
    return fmt_points(target["gap"], lang)


def _gap_style(target: dict[str, Any] | None, col: int, row: int) -> list[tuple]:
    if target is None or target["met"] is None:
        return []
    colour = colors.HexColor("#1d6b2f" if target["met"] else "#a30000")
    return [("TEXTCOLOR", (col, row), (col, row), colour)]


def _notes(items: list[dict[str, Any]], st: dict[str, ParagraphStyle]) -> list[Paragraph]:
    """One line per marked figure: what the mark "*" means for it."""
    out = []
    for h in items:
        for note in h["notes"]:
            name = _("Overall index") if h["code"] == "overall" else h["code"]
            out.append(Paragraph(_esc(f"* {name}: {note}."), st["small"]))
    return out


def _targets_line(data: dict[str, Any]) -> str:
    if not data["targets_set"]:
        return _("No targets are set for %(year)s.", year=data["year"])
    if data["targets_year"] != data["year"]:
        return _("Targets: those of %(year)s (none set for %(this)s yet); a figure is judged "
                 "on its displayed value, only when complete and with enough answers.",
                 year=data["targets_year"], this=data["year"])
    return _("Targets: those of %(year)s; a figure is judged on its displayed value, only "
             "when complete and with enough answers.", year=data["targets_year"])


def _groups(children: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    out: list[tuple[str, list[dict[str, Any]]]] = []
    for ch in children:
        if not out or out[-1][0] != ch["level"]:
            out.append((ch["level"], []))
        out[-1][1].append(ch)
    return out


def _rank_text(ch: dict[str, Any]) -> str:
    if ch["rank"] is None:
        return "*"
    if ch["rank_range"] and ch["tied"]:
        return f"{ch['rank']} ({ch['rank_range'][0]}–{ch['rank_range'][1]})"
    return str(ch["rank"])


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
        # the overall index's 95 % interval as a band, month by month where it exists
        band = [(i, s["ci95"]) for i, s in enumerate(series)
                if s["ci95"] is not None and comparable(s)]
        c.setFillColor(colors.HexColor("#cfe0f1"))
        c.setStrokeColor(colors.HexColor("#cfe0f1"))
        for (i, ci), (j, cj) in zip(band, band[1:], strict=False):
            if j != i + 1:
                continue
            path = c.beginPath()
            path.moveTo(x(i), y(max(lo, ci[0])))
            path.lineTo(x(j), y(max(lo, cj[0])))
            path.lineTo(x(j), y(cj[1]))
            path.lineTo(x(i), y(ci[1]))
            path.close()
            c.drawPath(path, stroke=0, fill=1)
        for i, ci in band:
            c.setLineWidth(0.6)
            c.line(x(i), y(max(lo, ci[0])), x(i), y(ci[1]))
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
                ok = (comparable(s) if key is None
                      else s.get("dimensions_comparable", {}).get(key, True))
                if not ok:  # not comparable: a hollow point (overall), not joined
                    if key is None:
                        c.setLineWidth(1)
                        c.setFillColor(colors.white)
                        c.circle(*point, 2.2, stroke=1, fill=1)
                        c.setLineWidth(2)
                    prev = None
                    continue
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


def comparable(month: dict[str, Any]) -> bool:
    """Whether a trend month's figures can be compared with the others: complete, and with
    at least the minimum sample."""
    return month["complete"] and not month["low_sample"]


def render_pdf(data: dict[str, Any], lang: str = "vi",
               document: dict[str, Any] | None = None) -> bytes:
    """The report PDF for a dashboard's data (A4, embedded Liberation Serif), as an
    administrative document (:mod:`core.services.official_report`). ``document`` (a
    finalised or edited report's: letterhead, day, assessment, proposals) overrides what
    is drafted from the office's data and the figures."""
    from core.services import assessment as drafting
    from core.services.official_report import build_document, letterhead_for, office_by_code

    document = document or {}
    office, month = data["office"], data["month"]
    head = document.get("letterhead") or letterhead_for(office_by_code(office["code"]))
    day = document.get("day") or utcnow().astimezone(VN_TZ).date()
    texts = document.get("texts") or drafting.draft(data, lang)
    summary = _("Citizens' satisfaction with the service of %(office)s, %(month)s",
                office=office["name"], month=fmt_period(month, lang))
    meta = {"title": _("SIPAS monthly report %(office)s %(month)s", office=office["code"],
                       month=month),
            "author": office["name"], "subject": "SIPAS"}
    return build_document(head=head, day=day, summary=summary,
                          results=lambda st: results_flowables(data, lang, st),
                          assessment=texts["assessment"], proposals=texts["proposals"],
                          meta=meta)


def results_flowables(data: dict[str, Any], lang: str, st: dict[str, ParagraphStyle]
                      ) -> list[Any]:
    """Part I of the report: the figures' tables and charts."""
    from core.services.official_report import register_serif

    regular, bold, _italic = register_serif()
    st = {**st, "base": st["plain"]}
    report = data["report"]
    ms = data["min_sample"]
    story: list[Any] = []
    story.append(Paragraph(_esc(_(
        "%(n)s responses were counted in this period. Indices are the share of answers "
        "'satisfied' or 'very satisfied' among the answers given. Citizens chose to answer "
        "(it is not a random sample); intervals show the uncertainty of each figure. "
        "Figures marked * are explained under their table.",
        n=fmt_number(report["responses"], lang))), st["base"]))
    story.append(Paragraph(_esc(_targets_line(data)), st["base"]))

    grey = colors.HexColor("#8a8a8a")
    story.append(Paragraph(_esc(_("1. Headline figures")), st["h2"]))
    target_label = (_("Target %(year)s", year=data["targets_year"]) if data["targets_year"]
                    else _("Target"))
    ci_label = _("Confidence interval") + " 95 %"
    vs_previous = _("vs %(month)s", month=_short_month(data["previous_month"]))
    vs_year_ago = _("vs %(month)s", month=_short_month(data["last_year_month"]))
    rows: list[list[Any]] = [["", _("Index"), "n", _("Value"), ci_label, vs_previous,
                              vs_year_ago, target_label, _("Gap")]]
    styles: list[tuple] = []
    for r, h in enumerate(data["headline"], start=1):
        name = _("Overall index") if h["code"] == "overall" else h["name"]
        rows.append(["" if h["code"] == "overall" else h["code"],
                     Paragraph(_esc(name), st["cell_bold" if h["code"] == "overall" else "cell"]),
                     fmt_number(h["n"], lang),
                     fmt_percent(h["index"], lang) + (" *" if h["notes"] else ""),
                     _ci_text(h["ci95"], lang),
                     *[_change_cell(h["change"][k], lang, st, grey) for k in COMPARISONS],
                     fmt_target(h["target"], lang), _gap_text(h["target"], lang)])
        styles += _gap_style(h["target"], 8, r)
    styles.append(("FONTSIZE", (4, 1), (4, -1), 7))
    story.append(_grid(rows, [7 * mm, 47 * mm, 11 * mm, 16 * mm, 21 * mm, 15 * mm, 15 * mm,
                              18 * mm, 13 * mm], bold, align_right_from=2, extra=styles))
    story += _notes(data["headline"], st)
    story.append(Paragraph(_esc(_(
        "Changes are in percentage points with a 95 %% interval (Newcombe); in black when "
        "significant (the interval excludes 0 and the change survives the Benjamini-Hochberg "
        "correction), in grey otherwise. A month with fewer than %(min)s answers is not "
        "comparable; an incomplete figure is not compared.", min=ms)), st["small"]))

    story.append(Paragraph(_esc(_("2. Criteria")), st["h2"]))
    rows = [[_("Code"), _("Criterion"), _("Index"), ci_label, _("Answered"),
             _("No answer"), vs_previous, vs_year_ago, target_label, _("Gap")]]
    styles = []
    for r, c in enumerate(data["criteria"], start=1):
        rows.append([c["code"], Paragraph(_esc(c["text"]), st["cell"]),
                     fmt_percent(c["index"], lang) + (" *" if c["notes"] else ""),
                     _ci_text(c["ci95"], lang),
                     fmt_number(c["answered"], lang), fmt_number(c["no_answer"], lang),
                     *[_change_cell(c["change"][k], lang, st, grey) for k in COMPARISONS],
                     fmt_target(c["target"], lang), _gap_text(c["target"], lang)])
        styles += _gap_style(c["target"], 9, r)
    styles.append(("FONTSIZE", (3, 1), (3, -1), 7))
    story.append(_grid(rows, [9 * mm, 35 * mm, 15 * mm, 21 * mm, 11 * mm, 10 * mm, 15 * mm,
                              15 * mm, 18 * mm, 14 * mm], bold, align_right_from=2,
                       extra=styles))
    if any(c["notes"] for c in data["criteria"]):
        story.append(Paragraph(_esc(_("* fewer than %(min)s answers: not precise, not judged "
                                      "against the target.", min=ms)), st["small"]))

    story.append(KeepTogether([
        Paragraph(_esc(_("3. Trend over 12 months")), st["h2"]),
        TrendChart(data, regular, bold),
        Paragraph(_esc(_("The band is the overall index's 95 %% interval. Hollow points are "
                         "not comparable months (fewer than %(min)s responses, or "
                         "incomplete) and are not joined to the line.", min=ms)),
                  st["small"])]))

    if data["children"]:
        story.append(Paragraph(_esc(_("4. Offices below")), st["h2"]))
        rows = [[_("Rank"), _("Office"), "n", _("Overall index"), ci_label]]
        styles = []
        for level, group in _groups(data["children"]):
            rows.append(["", Paragraph(_esc(level_label(level)), st["cell_bold"]), "", "", ""])
            for ch in group:
                rows.append([_rank_text(ch), Paragraph(_esc(ch["name"]), st["cell"]),
                             fmt_number(ch["responses"], lang),
                             fmt_percent(ch["overall"], lang) + (" *" if ch["reason"] else ""),
                             _ci_text(ch["ci95"], lang)])
        story.append(_grid(rows, [16 * mm, 66 * mm, 18 * mm, 25 * mm, 40 * mm], bold,
                           align_right_from=2))
        story.append(Paragraph(_esc(_(
            "Each kind of office is ranked apart, by its overall index. A range such as 2–4 "
            "means the office cannot be told apart from those ranks (95 %% intervals of the "
            "differences). * = not ranked: fewer than %(min)s responses, or an incomplete "
            "index.", min=ms)), st["small"]))

    if data["channels"]:
        story.append(Paragraph(_esc(_("Responses by channel: %(list)s", list="; ".join(
            f"{_channel_label(c['channel'])} {fmt_number(c['responses'], lang)} "
            f"({fmt_percent(c['share'], lang)})" for c in data["channels"]))), st["base"]))
    story += dossier_paragraphs(data["report"], st, lang)

    from core.services.report_sections import standing_flowables

    return story + standing_flowables(data, lang, st)


def office_report_pdf(office: Office, period: str, lang: str = "vi",
                      report: dict[str, Any] | None = None) -> bytes:
    """The report PDF of ``office`` for ``period`` (a period label), dated today: the
    results area's download and ``flask report --format pdf``. Kept per worker until the
    figures under it change or the day ends (:func:`core.services.report_cache.cached_pdf`;
    the key holds the office, period, language and day). ``report``: the period's report
    already computed (the CLI's, possibly of another instrument or with partial answers);
    it is part of the key by its digest. Raises Invalid for a bad period or instrument."""
    from core.services.dashboard import build_dashboard
    from core.services.report_cache import cached_pdf

    day = utcnow().astimezone(VN_TZ).date()
    digest = None if report is None else hashlib.sha256(
        json.dumps(report, sort_keys=True).encode()).hexdigest()

    def make() -> bytes:
        data = build_dashboard(office, period, locale=lang, report=report)
        return render_pdf(data, lang, document={"day": day})

    return cached_pdf((office.id, office.code, office.name, period, lang, day.isoformat(),
                       digest), make)


def monthly_report_pdf(office: Office, report: dict[str, Any], lang: str = "vi") -> bytes:
    """The PDF of a report already computed for ``office``
    (:func:`core.services.reports.period_report`): the same dashboard figures and the same
    document as the results area's download (:func:`office_report_pdf`)."""
    return office_report_pdf(office, report["period"], lang, report=report)


def _channel_label(channel: str) -> str:
    return {"kiosk": _("desk tablet"), "qr": _("QR code"), "generic": _("generic link"),
            "paper": _("paper"), "web": _("web")}.get(channel, channel)


def dossier_paragraphs(report: dict[str, Any], st: dict[str, ParagraphStyle], lang: str
                       ) -> list[Paragraph]:
    """The dossier volume, response rate, required sample and its adequacy, and the share
    of receipts answered (:mod:`core.services.dossiers`), as short paragraphs (none when
    nothing is known)."""
    out = []
    if report.get("dossiers") is not None:
        need = report["required_sample"]
        out.append(Paragraph(_esc(_(
            "Dossiers handled: %(n)s; response rate %(rate)s; required sample of this office "
            "%(need)s (n = N / (1 + N × 0.05²)); sample adequate: %(ok)s.",
            n=fmt_number(report["dossiers"], lang), rate=fmt_percent(report["response_rate"],
                                                                     lang),
            need="—" if need is None else fmt_number(need, lang),
            ok=_("yes") if report["sample_adequate"] else _("no"))), st["base"]))
    receipts = report.get("receipts")
    if receipts and receipts["share"] is not None:
        out.append(Paragraph(_esc(_(
            "Of the %(minted)s receipt links issued in this period, %(answered)s (%(share)s) "
            "have been answered so far.", minted=fmt_number(receipts["minted"], lang),
            answered=fmt_number(receipts["answered"], lang),
            share=fmt_percent(receipts["share"], lang))), st["base"]))
    return out
