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
from openpyxl import Workbook
from openpyxl.styles import Font

from core.extensions import db
from core.models import Office, Response
from core.services.audit import record
from core.services.common import get_instrument, registry
from core.services.pooling import pooled_responses, within
from core.services.sheets import csv_string, neutralise
from core.services.tx import transaction
from core.services.xlsx_stream import write_xlsx
from core.timeutil import VN_TZ

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def criteria_rows(data: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the month's criterion table: overall, dimensions, criteria."""
    report = data["report"]
    header = [_("Office code"), _("Office"), _("Month"), _("Level"), _("Code"), _("Name"),
              _("Index (%)"), _("Interval low (%)"), _("Interval high (%)"), _("Answered"),
              _("No answer"),
              _("Very dissatisfied (1)"), _("Dissatisfied (2)"), _("Neutral (3)"),
              _("Satisfied (4)"), _("Very satisfied (5)"), _("Target (%)"), _("Gap (points)"),
              _("Too few answers")]
    base = [report["office"]["code"], report["office"]["name"], report["month"]]
    rows: list[list[Any]] = []
    for h in data["headline"]:
        level = _("Overall") if h["code"] == "overall" else _("Dimension")
        name = _("Overall index") if h["code"] == "overall" else h["name"]
        rows.append([*base, level, "" if h["code"] == "overall" else h["code"], name,
                     _round(h["index"]), None, None, None, None, None, None, None, None,
                     None, _round(h["target"]), _round(h["gap"]),
                     _("yes") if h["low_sample"] else ""])
    for c in data["criteria"]:
        lo, hi = c["ci95"] or (None, None)
        rows.append([*base, _("Criterion"), c["code"], c["text"], _round(c["index"]),
                     _round(lo), _round(hi), c["answered"], c["no_answer"],
                     *[c["counts"][k] for k in "12345"], _round(c["target"]),
                     _round(c["gap"]), _("yes") if c["low_sample"] else ""])
    return header, rows


def _csv_bytes(header: list[str], rows: Iterable[list[Any]]) -> bytes:
    return csv_string(header, rows).encode("utf-8-sig")


def _xlsx_bytes(title: str, header: list[str], rows: Iterable[list[Any]],
                number_format: dict[int, str] | None = None) -> bytes:
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
    two = "0.00"
    return _xlsx_bytes(_("Criteria"), header, rows,
                       {6: two, 7: two, 8: two, 16: two, 17: two})


def response_rows(office: Office, month: str, lang: str = "vi", *, with_comments: bool = True
                  ) -> tuple[list[str], Iterator[list[Any]]]:
    """Header and rows of the month's raw anonymised responses for ``office``'s subtree
    (counted responses only; date without time; no identifiers of response or device). The
    comment column is left out unless ``with_comments``."""
    answered = pooled_responses(office.id, month, by=("instrument",))
    instruments = [get_instrument(i) for (i,) in sorted(answered) if i in registry()]
    if not instruments:
        from flask import current_app

        instruments = [get_instrument(current_app.config["DEFAULT_INSTRUMENT"])]
    main = instruments[0]
    codes = list(main.criterion_codes)
    areas = list(main.expectation_area_codes())
    questions = [q.code for q in main.demographics]
    header = [_("Office code"), _("Office"), _("Month"), _("Date"), _("Channel"),
              _("Questionnaire"), *codes, _("Procedure"),
              *[_("Expectation: %(area)s", area=a) for a in areas],
              *[_("Respondent: %(question)s", question=q) for q in questions]]
    if with_comments:
        header.append(_("Comment"))

    def rows() -> Iterator[list[Any]]:
        query = (within(sa.select(Office.code, Office.name, Response.month,
                                  Response.submitted_at, Response.channel,
                                  Response.instrument_id, Response.answers, Response.procedure,
                                  Response.expectations, Response.demographics,
                                  Response.comment), Response.office_id, office.id)
                 .join(Office, Office.id == Response.office_id)
                 .where(Response.month == month, Response.counted.is_(True))
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
            row = [code, name, m, day.isoformat(), channel, iid, *values, procedure,
                   *[exp.get(a) for a in areas], *[demo.get(q) for q in questions]]
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


def raw_responses(office: Office, month: str, fmt: str, lang: str = "vi", *,
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


def pdf_report(data: dict[str, Any], lang: str = "vi") -> bytes:
    from core.services.pdf_report import render_pdf

    return render_pdf(data, lang)


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
