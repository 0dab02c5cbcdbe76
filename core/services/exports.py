"""Downloads of the results: the criterion table and raw anonymised responses as XLSX or
CSV (UTF-8 with BOM, so Excel reads Vietnamese correctly), and the PDF monthly report.

Every text cell that a spreadsheet could read as a formula (starting with = + - @, a tab or
a carriage return) is prefixed with an apostrophe; CSV text is quoted and also safe when read
with ``;`` as the separator (Excel in a Vietnamese locale), see :mod:`core.services.sheets`.
Raw responses carry the date only (no time of day), and no kiosk, counter or response
identifier; never a contact request (they are kept apart from the answers), and comment texts
only for those who may read them (:func:`core.services.scope.may_read_comments`). Every
download is audited with its number of data rows.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from core.extensions import db
from core.i18n import fmt_period
from core.models import Office, Response
from core.scoring import displayed
from core.services.audit import record
from core.services.common import get_instrument, registry
from core.services.labels import channel_label
from core.services.pooling import pooled_responses, within
from core.services.sheets import csv_string, neutralise
from core.services.tx import transaction
from core.services.xlsx_stream import write_xlsx
from core.timeutil import VN_TZ

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

def _round(value: float | None) -> float | None:
    """A figure as displayed (two decimals, :func:`core.scoring.displayed`)."""
    return None if value is None else float(displayed(value))


def _yes_no(value: bool | None) -> str:
    return "" if value is None else (_("yes") if value else _("no"))


def _target_cells(t: dict[str, Any] | None) -> list[Any]:
    if t is None:
        return [None] * 6
    return [">" if t["operator"] == ">" else "≥", t["value"], t["year"],
            t["inherited_from"] or "", _yes_no(t["met"]), t["gap"]]


def _change_cells(change: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    for key in ("previous", "year_ago"):
        c = change[key]
        if c is None:
            out += [None, None, None, ""]
        else:
            out += [_round(c["delta"]), _round(c["low"]), _round(c["high"]),
                    _yes_no(c["significant"]) if c["comparable"] else _("not comparable")]
    return out


#: columns of the criterion table holding percentages or points (two decimals)
_TWO_DECIMALS = (6, 7, 8, 21, 25, 26, 27, 28, 30, 31, 32)


def criteria_rows(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the month's criterion table: overall, dimensions, criteria, as the
    dashboard shows them (figures rounded as displayed), with completeness, targets,
    changes and the reason for every mark."""
    report = data["report"]
    previous, year_ago = (fmt_period(data["previous_month"]),
                          fmt_period(data["last_year_month"]))
    header = [_("Office code"), _("Office"), _("Period"), _("Level"), _("Code"), _("Name"),
              _("Index (%)"), _("Interval low (%)"), _("Interval high (%)"),
              _("Respondents"), _("Answered"), _("No answer"),
              _("Very dissatisfied (1)"), _("Dissatisfied (2)"), _("Neutral (3)"),
              _("Satisfied (4)"), _("Very satisfied (5)"), _("Complete"), _("Missing"),
              _("Too few answers"), _("Target operator"), _("Target (%)"), _("Target year"),
              _("Target set by"), _("Target met"), _("Gap (points)"),
              _("Change vs %(month)s (points)", month=previous), _("Low"), _("High"),
              _("Significant"),
              _("Change vs %(month)s (points)", month=year_ago), _("Low"), _("High"),
              _("Significant"), _("Note"), _("Responses (total)")]
    total = report["responses"]
    base = [report["office"]["code"], report["office"]["name"], report["period"]]
    rows: list[list[Any]] = []
    for h in data["headline"]:
        level = _("Overall") if h["code"] == "overall" else _("Dimension")
        name = _("Overall index") if h["code"] == "overall" else h["name"]
        lo, hi = h["ci95"] or (None, None)
        rows.append([*base, level, "" if h["code"] == "overall" else h["code"], name,
                     _round(h["index"]), _round(lo), _round(hi), h["n"], None, None,
                     None, None, None, None, None, _yes_no(h["complete"]),
                     " ".join(h["missing"]), _yes_no(h["low_sample"]),
                     *_target_cells(h["target"]), *_change_cells(h["change"]),
                     "; ".join(h["notes"]), total])
    for c in data["criteria"]:
        lo, hi = c["ci95"] or (None, None)
        rows.append([*base, _("Criterion"), c["code"], c["text"], _round(c["index"]),
                     _round(lo), _round(hi), None, c["answered"], c["no_answer"],
                     *[c["counts"][k] for k in "12345"], _yes_no(c["index"] is not None),
                     "", _yes_no(c["low_sample"]),
                     *_target_cells(c["target"]), *_change_cells(c["change"]),
                     "; ".join(c["notes"]), total])
    return header, rows


def _csv_bytes(header: list[str], rows: Iterable[list[Any]]) -> bytes:
    return csv_string(header, rows).encode("utf-8-sig")


def _xlsx_bytes(title: str, header: list[str], rows: Iterable[list[Any]],
                number_format: dict[int, str] | None = None) -> bytes:
    from openpyxl import Workbook  # imported when a workbook is made (0.15 s)
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    ws.freeze_panes = "A2"
    from openpyxl.cell import WriteOnlyCell

    bold = Font(bold=True)
    head = []
    for h in header:
        cell = WriteOnlyCell(ws, value=neutralise(h))
        cell.font = bold
        head.append(cell)
    ws.append(head)
    fmts = number_format or {}
    for row in rows:
        if fmts:
            cells = []
            for i, v in enumerate(row):
                cell = WriteOnlyCell(ws, value=neutralise(v))
                if i in fmts and isinstance(v, float):
                    cell.number_format = fmts[i]
                cells.append(cell)
            ws.append(cells)
        else:
            ws.append([neutralise(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def criteria_table(data: dict[str, Any], fmt: str, lang: str = "vi") -> bytes:
    """The criterion table of a dashboard (see core.services.dashboard) as xlsx or csv."""
    header, rows = criteria_rows(data)
    if fmt == "csv":
        return _csv_bytes(header, rows)
    return _xlsx_bytes(_("Criteria"), header, rows, dict.fromkeys(_TWO_DECIMALS, "0.00"))


def response_rows(office: Office, month: str | list[str], lang: str = "vi", *,
                  with_comments: bool = True) -> tuple[list[str], Iterator[list[Any]]]:
    """Header and rows of the raw anonymised responses of a month (or the months of a
    period) for ``office``'s subtree (counted responses only; date without time; no
    identifiers of response or device). The comment column is left out unless
    ``with_comments``."""
    months = [month] if isinstance(month, str) else list(month)
    answered = pooled_responses(office.id, months, by=("instrument",))
    instruments = [get_instrument(i) for (i,) in sorted(answered) if i in registry()]
    if not instruments:
        from flask import current_app

        instruments = [get_instrument(current_app.config["DEFAULT_INSTRUMENT"])]
    main = instruments[0]
    codes = list(main.criterion_codes)
    areas = list(main.expectation_area_codes())
    questions = [q.code for q in main.demographics]
    # words, not codes: areas, questions, channels, levels and options by their labels
    levels = {v: t.get(lang) for v, t in main.expectation_levels}
    options = {q.code: {o.code: o.label.get(lang) for o in q.options}
               for q in main.demographics}
    header = [_("Office code"), _("Office"), _("Month"), _("Date"), _("Channel"),
              _("Questionnaire"), *codes, _("Procedure"),
              *[_("Expectation: %(area)s", area=a.label.get(lang))
                for a in main.expectation_areas],
              *[_("Respondent: %(question)s", question=q.label.get(lang))
                for q in main.demographics]]
    if with_comments:
        header.append(_("Comment"))

    def rows() -> Iterator[list[Any]]:
        query = (within(sa.select(Office.code, Office.name, Response.month,
                                  Response.submitted_at, Response.channel,
                                  Response.instrument_id, Response.answers, Response.procedure,
                                  Response.expectations, Response.demographics,
                                  Response.comment), Response.office_id, office.id)
                 .join(Office, Office.id == Response.office_id)
                 .where(Response.month.in_(months), Response.counted.is_(True))
                 .order_by(Office.code, Response.submitted_at)
                 .execution_options(yield_per=5000))
        by_day: list[list[Any]] = []
        current_key: tuple | None = None
        for (code, name, m, submitted, channel, iid, answers, procedure, exp, demo,
             comment) in db.session.execute(query):
            day = submitted.astimezone(VN_TZ).date()
            if iid == main.id:
                values = [None if ch == "0" else int(ch) for ch in answers]
            else:
                values = [None] * len(codes)
            exp = exp or {}
            demo = demo or {}
            row = [code, name, m, day.isoformat(), channel_label(channel), iid, *values,
                   procedure, *[levels.get(exp.get(a), exp.get(a)) for a in areas],
                   *[options[q].get(demo.get(q), demo.get(q)) for q in questions]]
            if with_comments:
                row.append(comment)
            key = (code, day)
            # within an office and day, rows are sorted by content, not arrival order
            if key != current_key and by_day:
                yield from sorted(by_day, key=_content_key)
                by_day = []
            current_key = key
            by_day.append(row)
        yield from sorted(by_day, key=_content_key)

    return header, rows()


def _content_key(row: list[Any]) -> tuple:
    return (row[3], tuple("" if v is None else str(v) for v in row[4:]))


def raw_responses(office: Office, month: str | list[str], fmt: str, lang: str = "vi", *,
                  with_comments: bool = False) -> tuple[bytes, int]:
    """The month's raw responses as ``fmt`` (csv or xlsx), and how many data rows the file
    has; comment texts only ``with_comments``."""
    header, rows = response_rows(office, month, lang, with_comments=with_comments)
    counted = 0

    def counting() -> Iterator[list[Any]]:
        nonlocal counted
        for row in rows:
            counted += 1
            yield row

    if fmt == "csv":
        return _csv_bytes(header, counting()), counted
    # a whole city's month is over a million cells: stream them (openpyxl is ~6x slower)
    return write_xlsx(_("Responses"), [neutralise(h) for h in header],
                      ([neutralise(v) for v in row] for row in counting())), counted


def breakdown_rows(table: dict[str, Any], office: Office, period: str
                   ) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of a breakdown (:mod:`core.services.breakdowns`): suppressed groups
    keep their label and carry no figure."""
    header = [_("Office code"), _("Office"), _("Period"), _("Breakdown by"), _("Group"),
              _("Responses"), _("Overall index (%)"), _("Complete"), _("Suppressed")]
    rows = [[office.code, office.name, period, table["label"], g["label"], g["responses"],
             _round(g["overall"]), _yes_no(g["complete"]), _yes_no(g["suppressed"])]
            for g in table["groups"]]
    return header, rows


def breakdown_table(table: dict[str, Any], office: Office, period: str, fmt: str) -> bytes:
    """A breakdown as xlsx or csv."""
    header, rows = breakdown_rows(table, office, period)
    if fmt == "csv":
        return _csv_bytes(header, rows)
    return _xlsx_bytes(_("Breakdown"), header, rows, {6: "0.00"})


def record_download(actor: str, office: Office, kind: str, fmt: str, month: str,
                    rows: int | None = None) -> None:
    """Note a download in the audit trail, with its number of data rows (None: a file
    without rows, the PDF), and commit. A download is a GET: the row is written in a
    transaction of its own (see :mod:`core.services.tx`), never inside the reads that built
    the file."""
    details: dict[str, Any] = {"month": month}
    if rows is not None:
        details["rows"] = rows
    with transaction():
        record("export", actor=actor, office_id=office.id, target=f"{kind}.{fmt}", **details)
