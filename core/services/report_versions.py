"""Editing, finalising ("Chốt báo cáo") and reading back an office's report for a period.

- Before finalising, a head edits parts II and III (drafted by
  :mod:`core.services.assessment`) and, for this report only, the signer and the recipients
  (:class:`core.models.ReportText`).
- Finalising (the office's head or an administrator, for a month, quarter or year) freezes a
  version (:class:`core.models.ReportVersion`): the report's figures (JSON), the texts, the
  letterhead, the document's date, the PDF bytes and their SHA-256, who and when. Audited.
  A later download returns exactly those bytes, whatever happened to the data since.
- Data that changes after finalisation (late paper imports, an undone batch) is noticed on
  the dashboard. What changed per figure is told only once at least ``MIN_SAMPLE`` answers
  changed: a smaller change could reveal single answers. A new version keeps the old ones and
  lists the differences against the previous one (same rule).
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from core.errors import Conflict, Invalid, NotFound
from core.extensions import db
from core.models import Office, ReportText, ReportVersion, User
from core.periods import Period, parse_period
from core.services import scope
from core.services.audit import record
from core.services.official_report import Letterhead, letterhead_for
from core.services.tx import transaction
from core.timeutil import VN_TZ, utcnow

#: the kinds of period a report may be finalised for
FINAL_KINDS = ("month", "quarter", "year")
OVERRIDE_KEYS = ("signer_capacity", "signer_title", "signer_name", "recipients")
MAX_TEXT = 20_000


def check_period(label: str) -> Period:
    """The period of a label a report can be finalised for. Raises Invalid(400)."""
    try:
        period = parse_period(label)
    except ValueError:
        raise Invalid("invalid_period", _("%(period)s is not a valid period (e.g. 2026-10, "
                                          "2026-Q3, 2026).", period=label)) from None
    if period.kind not in FINAL_KINDS:
        raise Invalid("invalid_period", _("A report is finalised for a month, a quarter or a "
                                          "year."))
    return period


def report_data(office: Office, period: Period, lang: str = "vi",
                instrument_id: str | None = None) -> dict[str, Any]:
    """The dashboard data the report of ``period`` (a month, a quarter or a year) is made
    from: its figures pooled over the period's months."""
    from core.services.dashboard import build_dashboard

    return build_dashboard(office, period, instrument_id=instrument_id, locale=lang)


# --- texts -----------------------------------------------------------------------------------

def paragraphs(text: str) -> list[str]:
    """Paragraphs of a text box: separated by blank lines, inner line breaks joined."""
    out, current = [], []
    for line in (text or "").replace("\r\n", "\n").split("\n"):
        if line.strip():
            current.append(line.strip())
        elif current:
            out.append(" ".join(current))
            current = []
    if current:
        out.append(" ".join(current))
    return out


def saved_text(office: Office, period: Period, instrument_id: str) -> ReportText | None:
    return db.session.scalar(sa.select(ReportText).where(
        ReportText.office_id == office.id, ReportText.period == period.label,
        ReportText.instrument_id == instrument_id))


def texts_for(office: Office, period: Period, data: dict[str, Any], lang: str
              ) -> tuple[dict[str, list[str]], dict[str, Any], bool]:
    """(texts, overrides, edited): the head's saved texts, else the draft."""
    from core.services.assessment import draft

    row = saved_text(office, period, data["report"]["instrument"])
    if row is not None:
        return row.texts, row.overrides or {}, True
    return draft(data, lang), {}, False


def save_text(user: User, office: Office, period: Period, instrument_id: str, *,
              assessment: str, proposals: str, overrides: dict[str, str]) -> ReportText:
    """Store the head's parts II and III and this report's signer / recipients. Audited.
    Raises NotAllowed, Invalid(400) for empty or overlong texts."""
    scope.require(user, "finalise_reports")
    problems = {}
    for name, value in (("assessment", assessment), ("proposals", proposals)):
        if not paragraphs(value):
            problems[name] = _("Write at least one paragraph.")
        elif len(value) > MAX_TEXT:
            problems[name] = _("At most %(n)s characters.", n=MAX_TEXT)
    clean = {k: (overrides.get(k) or "").strip()[:2000] for k in OVERRIDE_KEYS}
    if problems:
        raise Invalid("invalid_text", _("Please correct the marked fields."), fields=problems)
    with transaction():
        row = saved_text(office, period, instrument_id)
        if row is None:
            row = ReportText(office_id=office.id, period=period.label,
                             instrument_id=instrument_id, texts={}, updated_by=user.username)
            db.session.add(row)
        row.texts = {"assessment": paragraphs(assessment), "proposals": paragraphs(proposals)}
        row.overrides = {k: v for k, v in clean.items() if v} or None
        row.updated_by = user.username
        row.updated_at = utcnow()
        record("report.text_saved", actor=user.username, office_id=office.id,
               target=f"report:{office.code}:{period.label}")
    return row


# --- finalising ------------------------------------------------------------------------------

def versions(office: Office, period: Period) -> list[ReportVersion]:
    return list(db.session.scalars(
        sa.select(ReportVersion).where(ReportVersion.office_id == office.id,
                                       ReportVersion.period == period.label)
        .order_by(ReportVersion.version)))


def get_version(office: Office, period: Period, number: int) -> ReportVersion:
    """Raises NotFound(404)."""
    row = db.session.scalar(sa.select(ReportVersion).where(
        ReportVersion.office_id == office.id, ReportVersion.period == period.label,
        ReportVersion.version == number))
    if row is None:
        raise NotFound("no_version", _("Version %(n)s of this report does not exist.",
                                       n=number))
    return row


def finalise(user: User, office: Office, period: Period, lang: str = "vi") -> ReportVersion:
    """Freeze a new version of the report (see the module's description). Raises
    NotAllowed, Invalid (a period not supported yet), Conflict (finalised concurrently)."""
    from core.services.pdf_report import render_pdf

    scope.require(user, "finalise_reports")
    data = report_data(office, period, lang)
    texts, overrides, _edited = texts_for(office, period, data, lang)
    head = letterhead_for(office, overrides)
    day = utcnow().astimezone(VN_TZ).date()
    pdf = render_pdf(data, lang, document={"letterhead": head, "day": day, "texts": texts})
    figures = data["report"]
    previous = versions(office, period)
    number = (previous[-1].version + 1) if previous else 1
    row = ReportVersion(office_id=office.id, period=period.label,
                        instrument_id=figures["instrument"], version=number,
                        figures=figures, texts=texts, letterhead=head.as_json(), lang=lang,
                        day=day, pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(),
                        finalised_by=user.username, finalised_at=utcnow())
    try:
        with transaction():
            db.session.add(row)
            record("report.finalise", actor=user.username, office_id=office.id,
                   target=f"report:{office.code}:{period.label}", version=number,
                   sha256=row.sha256)
    except sa.exc.IntegrityError:
        raise Conflict("version_taken", _("Someone else finalised this report at the same "
                                          "time; reload the page.")) from None
    return row


def record_version_download(actor: str, row: ReportVersion, office: Office) -> None:
    with transaction():
        record("report.download_final", actor=actor, office_id=office.id,
               target=f"report:{office.code}:{row.period}", version=row.version,
               sha256=row.sha256)


# --- what changed ----------------------------------------------------------------------------

def _figure_list(report: dict[str, Any]) -> list[tuple[str, float | None]]:
    out = [("overall", report["overall"])]
    out += [(d["code"], d["index"]) for d in report["dimensions"]]
    out += [(c["code"], c["index"]) for c in report["criteria"]]
    return out


def answers_changed(old: dict[str, Any], new: dict[str, Any]) -> int:
    """How many answers differ between two versions of a report's figures, at least: the
    responses added or removed per channel, or half the moved answer counts of the criterion
    that changed most (an answer replaced by another moves two counts)."""
    channels = set(old["channels"]) | set(new["channels"])
    by_channel = sum(abs(new["channels"].get(c, 0) - old["channels"].get(c, 0))
                     for c in channels)
    by_criterion = 0
    before = {c["code"]: c for c in old["criteria"]}
    for c in new["criteria"]:
        b = before.get(c["code"])
        if b is None:
            continue
        moved = sum(abs(c["counts"][k] - b["counts"][k]) for k in c["counts"])
        moved += abs(c["no_answer"] - b["no_answer"])
        by_criterion = max(by_criterion, math.ceil(moved / 2))
    return max(by_channel, by_criterion)


def differences(old: dict[str, Any], new: dict[str, Any], min_sample: int | None = None
                ) -> dict[str, Any]:
    """{"changed": any answer differs, "detailed": at least the minimum sample changed,
    "figures": [{code, before, after}] where the displayed index differs (only when
    detailed)}."""
    from core.scoring import displayed

    ms = int(min_sample if min_sample is not None else current_app.config["MIN_SAMPLE"])
    n = answers_changed(old, new)
    out: dict[str, Any] = {"changed": n > 0, "detailed": n >= ms, "figures": []}
    if n < ms:
        return out
    after = dict(_figure_list(new))
    for code, value in _figure_list(old):
        now = after.get(code)
        shown_before = None if value is None else displayed(value)
        shown_after = None if now is None else displayed(now)
        if shown_before != shown_after:
            out["figures"].append({"code": code, "before": value, "after": now})
    return out


def status(office: Office, period: Period, current: dict[str, Any] | None, user: User
           ) -> dict[str, Any]:
    """What the dashboard shows about the report of ``period``: its versions (each with the
    differences against the one before) and whether the data changed since the last one."""
    rows = versions(office, period)
    listed = []
    for i, row in enumerate(rows):
        listed.append({"version": row.version, "by": row.finalised_by,
                       "at": row.finalised_at, "sha256": row.sha256,
                       "differences": differences(rows[i - 1].figures, row.figures)
                       if i else None})
    since = None
    if rows and current is not None:
        since = differences(rows[-1].figures, current)
    return {"period": period.label, "versions": listed, "since_last": since,
            "may_finalise": scope.can(user, "finalise_reports"),
            "finalisable": period.kind in FINAL_KINDS}


def document_of(row: ReportVersion) -> dict[str, Any]:
    """The document part of a version (to render it again, e.g. for comparison)."""
    return {"letterhead": Letterhead.from_json(row.letterhead), "day": row.day,
            "texts": row.texts}


def final_report_cli(office_code: str, period_label: str, number: int, fmt: str
                     ) -> bytes | str:
    """``flask report CODE PERIOD --final N``: the version's PDF bytes (pdf), its frozen
    figures with who and when (json) or its figures as CSV. Audited. Raises DomainError."""
    import json

    from core.services.offices import get_office
    from core.services.reports import report_csv

    office = get_office(office_code)
    row = get_version(office, check_period(period_label), number)
    record_version_download("cli", row, office)
    if fmt == "pdf":
        return row.pdf
    if fmt == "csv":
        return report_csv(row.figures)
    return json.dumps({"office": office.code, "period": row.period, "version": row.version,
                       "sha256": row.sha256, "finalised_by": row.finalised_by,
                       "finalised_at": row.finalised_at.isoformat(), "day": row.day.isoformat(),
                       "texts": row.texts, "letterhead": row.letterhead,
                       "figures": row.figures}, ensure_ascii=False, indent=2)
