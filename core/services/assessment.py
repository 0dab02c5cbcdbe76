"""Part II (assessment) and part III (proposals) of the report, drafted from the figures.

The draft is deterministic: the same figures give the same text, word for word (lists are
ordered by code or by value then code). It states only what the figures support:

- the responses and whether the sample is adequate (below the minimum sample, figures are
  indicative only);
- the overall index, and the targets met and missed, judged only for complete figures with
  enough answers (the report's ``target.met`` is None otherwise);
- the three lowest criteria among those with enough answers;
- significant changes against the previous period and the same period a year earlier;
- the comments: how many, how many handled, the most frequent themes (tags that handlers
  set from the instrument's fixed list);
- proposals: the criteria to improve first (:mod:`core.services.priorities` when it could
  be estimated, else the lowest criteria).

The head edits both parts in the web before the report is finalised
(:mod:`core.services.report_versions`).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from core.i18n import fmt_number, fmt_percent, fmt_points
from core.services.reports import COMPARISONS


def _names(items: list[dict[str, Any]]) -> str:
    return "; ".join(f"{i['code']} ({fmt_percent(i['index'])})" for i in items)


def _figures(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The overall, dimensions and criteria as one list of {code, label, index, target,
    change, low_sample, complete}."""
    report = data["report"]
    out = [{"code": _("overall index"), "index": report["overall"], "target":
            report["target"], "change": report["change"], "low_sample": report["low_sample"],
            "complete": report["complete"]}]
    out += [{"code": d["code"], "index": d["index"], "target": d["target"],
             "change": d["change"], "low_sample": d["low_sample"], "complete": d["complete"]}
            for d in report["dimensions"]]
    out += [{"code": c["code"], "index": c["index"], "target": c["target"],
             "change": c["change"], "low_sample": c["low_sample"],
             "complete": c["index"] is not None} for c in report["criteria"]]
    return out


def draft_from(data: dict[str, Any], comments: dict[str, Any] | None,
               theme_labels: dict[str, str], priorities: list[dict[str, Any]] | None = None
               ) -> dict[str, list[str]]:
    """The draft (pure): {"assessment": [paragraphs], "proposals": [paragraphs]}."""
    report = data["report"]
    ms = report["min_sample"]
    text: list[str] = []
    n = report["responses"]
    adequate = report.get("sample_adequate")
    if adequate is None:
        adequate = not report["low_sample"]
    if n == 0:
        text.append(_("No responses were counted in the period; the figures cannot be "
                      "assessed."))
        return {"assessment": text, "proposals": [
            _("Invite citizens to answer the survey at the one-stop desk and online.")]}
    if adequate:
        text.append(_("In the period, %(n)s valid responses were counted, enough for the "
                      "figures to be assessed.", n=fmt_number(n)))
    else:
        text.append(_("In the period, only %(n)s valid responses were counted (the minimum "
                      "is %(min)s); the figures are indicative only and are not judged "
                      "against the targets.", n=fmt_number(n), min=fmt_number(ms)))
    if report["overall"] is not None:
        if report["complete"]:
            text.append(_("The overall satisfaction index is %(value)s.",
                          value=fmt_percent(report["overall"])))
        else:
            text.append(_("The overall satisfaction index is %(value)s, but it is incomplete "
                          "(no answers for %(missing)s) and is not compared.",
                          value=fmt_percent(report["overall"]),
                          missing=", ".join(report["missing"])))
    figures = _figures(data)
    met = [f for f in figures if f["target"] and f["target"]["met"] is True]
    missed = [f for f in figures if f["target"] and f["target"]["met"] is False]
    if met or missed:
        parts = []
        if met:
            parts.append(_("%(n)s figures meet their target", n=len(met)))
        if missed:
            parts.append(_("%(n)s figures miss their target: %(list)s", n=len(missed),
                           list=_names(missed)))
        text.append("; ".join(parts) + ".")
    ranked = sorted((c for c in report["criteria"]
                     if c["index"] is not None and not c["low_sample"]),
                    key=lambda c: (c["index"], c["code"]))[:3]
    if ranked:
        text.append(_("The lowest criteria are %(list)s.", list=_names(ranked)))
    for key in COMPARISONS:
        ups = [f for f in figures if f["change"][key] and f["change"][key]["significant"]
               and f["change"][key]["delta"] > 0]
        downs = [f for f in figures if f["change"][key] and f["change"][key]["significant"]
                 and f["change"][key]["delta"] < 0]
        against = (_("the previous period") if key == "previous"
                   else _("the same period last year"))
        if not ups and not downs:
            text.append(_("Against %(period)s, no figure changed significantly.",
                          period=against))
            continue
        items = [f"{f['code']} ({fmt_points(f['change'][key]['delta'])})"
                 for f in sorted(ups + downs, key=lambda f: -abs(f["change"][key]["delta"]))]
        text.append(_("Against %(period)s, significant changes (in points): %(list)s.",
                      period=against, list="; ".join(items)))
    if comments is not None:
        if comments["comments"]:
            themes = [f"{theme_labels.get(code, code)} ({fmt_number(k)})"
                      for code, k in list(comments["themes"].items())[:3]]
            line = _("Citizens left %(n)s comments, of which %(handled)s have been handled.",
                     n=fmt_number(comments["comments"]),
                     handled=fmt_number(comments["handled"]))
            if themes:
                line += " " + _("Most frequent themes: %(list)s.", list="; ".join(themes))
            text.append(line)
        else:
            text.append(_("Citizens left no comments in the period."))
    proposals: list[str] = []
    focus = priorities or [{"code": c["code"], "text": c["text"]} for c in ranked]
    if focus:
        proposals.append(_("Focus improvement on: %(list)s.", list="; ".join(
            f"{c['code']} {c['text']}" for c in focus)))
    if not adequate:
        proposals.append(_("Invite more citizens to answer the survey so that the figures "
                           "reach the minimum sample."))
    proposals.append(_("Keep handling citizens' comments and publish the replies."))
    return {"assessment": text, "proposals": proposals}


def draft(data: dict[str, Any], lang: str = "vi") -> dict[str, list[str]]:
    """The draft for a dashboard's data (reads the comment themes of the period)."""
    from core.services.common import get_instrument
    from core.services.feedback import theme_summary
    from core.services.official_report import office_by_code

    office = office_by_code(data["office"]["code"])
    months = data["report"].get("months") or [data["month"]]
    instrument = get_instrument(data["report"]["instrument"])
    labels = {t.code: t.label.get(lang) for t in instrument.comment_themes}
    pri = data.get("priorities")
    top = pri["top"] if pri and pri.get("shown") else None
    return draft_from(data, theme_summary(office, months), labels, top)
