"""Sections of the report's part I added by the official report: what to fix first (the
priority chart and the three criteria with the expectation answers beside them) and where
the office stands among its peers. Shared wording for the PDF; the dashboard's partial
(admin/_standing.html) shows the same data."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph

from core.i18n import fmt_number, fmt_percent
from core.pdf_fonts import register_serif
from core.services.official_report import esc, grid
from core.services.priority_chart import PriorityChart


def priority_note(pri: dict[str, Any]) -> str:
    if pri["shown"]:
        return _("Importance is Spearman's correlation between the answer to a criterion and "
                 "the mean of the same respondent's other criteria (%(n)s respondents). "
                 "Criteria to the right of the dashed line matter more; below it, they do "
                 "worse than most.", n=fmt_number(pri["respondents"]))
    return _("Not shown: %(n)s respondents, fewer than the %(min)s needed to estimate which "
             "criteria matter most.", n=fmt_number(pri["respondents"]),
             min=fmt_number(pri["min_respondents"]))


def peers_lines(peers: dict[str, Any]) -> list[str]:
    out = []
    if peers["city"] is not None:
        out.append(_("City figure (overall index of the whole city): %(v)s.",
                     v=fmt_percent(peers["city"])))
    if peers["median"] is None:
        out.append(_("Comparison with offices of the same level: not shown (fewer than %(min)s "
                     "offices of the same level have enough answers).", min=peers["min_peers"]))
        return out
    out.append(_("Median of %(n)s offices of the same level with enough answers: %(v)s.",
                 n=fmt_number(peers["peers_counted"]), v=fmt_percent(peers["median"])))
    if peers["rank"] is not None:
        out.append(_("Rank among them: %(rank)s of %(of)s.", rank=peers["rank"],
                     of=peers["of"]))
    else:
        out.append(_("No rank: this office does not have enough answers, or its index is "
                     "incomplete."))
    return out


def standing_flowables(data: dict[str, Any], lang: str, st: dict[str, ParagraphStyle]
                       ) -> list[Any]:
    """The PDF's sections for priorities and peers (empty when the data has neither)."""
    regular, bold, _italic = register_serif()
    out: list[Any] = []
    pri = data.get("priorities")
    if pri is not None:
        head = Paragraph(esc(_("What to fix first")), st["h2"])
        if pri["shown"]:
            chart = PriorityChart(pri, regular, bold, _("Importance (Spearman's rho)"),
                                  _("Index") + " (%)")
            out.append(KeepTogether([head, chart,
                                     Paragraph(esc(priority_note(pri)), st["small"])]))
            exp = {a["code"]: a for a in data.get("expectations", {}).get("areas", [])}
            rows: list[list[Any]] = [[_("Code"), _("Criterion"), _("Index"),
                                      _("Importance")]]
            for c in pri["top"]:
                rows.append([c["code"], Paragraph(esc(c["text"]), st["cell"]),
                             fmt_percent(c["index"], lang),
                             f"{c['importance']:.2f}".replace(".", ",")])
            out.append(KeepTogether([
                Paragraph(esc(_("The three criteria to improve first")), st["plain"]),
                grid(rows, [16 * mm, 99 * mm, 25 * mm, 25 * mm])]))
            if any(a["n"] for a in exp.values()):
                areas = sorted(exp.values(), key=lambda a: (a["top_share"] is None,
                                                            -(a["top_share"] or 0), a["code"]))
                out.append(Paragraph(esc(_("What citizens want improved (share answering "
                                           "\"very much\"): %(list)s.", list="; ".join(
                                               f"{a['label'].get(lang)} "
                                               f"{fmt_percent(a['top_share'], lang)}"
                                               for a in areas if a["n"]))), st["small"]))
        else:
            out += [head, Paragraph(esc(priority_note(pri)), st["small"])]
    peers = data.get("peers")
    if peers is not None:
        out.append(Paragraph(esc(_("Where the office stands")), st["h2"]))
        out += [Paragraph(esc(line), st["plain"]) for line in peers_lines(peers)]
    return out
