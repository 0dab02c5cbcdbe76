"""What the public sees without signing in: each office's results per month and its board of
published replies ("you said, we did").

Results: for each month that is over (so every answer of it has been released by the mixing
stage) with at least ``MIN_SAMPLE`` answers and complete figures, the overall index and the
dimension indices with their 95 % intervals, and the change against the previous month shown
(significant or not, as in the reports). Months with too few answers or incomplete figures
are left out, not shown with a warning: these are published aggregates. An office whose
``public_results`` an administrator switched off (:func:`set_public_results`, audited) is
absent from every public page, its board included.

Board: the replies a head made public (``CommentHandling.reply_public``), each with the month
of the comment (never a finer date: a day would narrow the comment down to the few people
served that day) and, only when the head also published it, the comment's text, which was
masked (:mod:`core.personal_data`) before it was ever stored. Nothing else of the response.

Both are cached for ``PUBLIC_CACHE_SECONDS`` in the process (and by browsers and proxies:
``Cache-Control: public``); switching an office off or publishing a reply clears the cache.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from core.errors import Invalid, NotFound
from core.extensions import db
from core.models import CommentHandling, Office, Response, User
from core.services import reports
from core.services.audit import record
from core.services.pooling import pooled_responses, within
from core.services.scope import may_read_comments, may_see
from core.services.tx import transaction
from core.timeutil import last_complete_month, shift_month

T = TypeVar("T")
#: at most this many months are shown (the most recent)
MAX_MONTHS = 24
BOARD_SIZE = 100


# --- a small cache ---------------------------------------------------------------------------

_cache_lock = threading.Lock()


def _store() -> dict[tuple, tuple[float, Any]]:
    return current_app.extensions.setdefault("sipas_public_cache", {})


def cached(key: tuple, compute: Callable[[], T]) -> T:
    """``compute()``, kept ``PUBLIC_CACHE_SECONDS`` under ``key`` in this process (0: not
    kept)."""
    ttl = float(current_app.config["PUBLIC_CACHE_SECONDS"])
    now = time.monotonic()
    store = _store()
    with _cache_lock:
        hit = store.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
    value = compute()
    if ttl > 0:
        with _cache_lock:
            if len(store) > 1000:
                store.clear()
            store[key] = (now + ttl, value)
    return value


def clear_cache() -> None:
    """Forget what was cached (this process; others within ``PUBLIC_CACHE_SECONDS``)."""
    with _cache_lock:
        _store().clear()


# --- offices ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class PublicOffice:
    code: str
    name: str
    level: str


def public_offices() -> list[PublicOffice]:
    """Active offices whose results are public, by code."""
    def compute() -> list[PublicOffice]:
        rows = db.session.execute(
            sa.select(Office.code, Office.name, Office.level)
            .where(Office.active.is_(True), Office.public_results.is_(True))
            .order_by(Office.code)).all()
        return [PublicOffice(*row) for row in rows]
    return cached(("offices",), compute)


def public_office(code: str) -> Office:
    """The office of ``code`` if its results are public. Raises NotFound otherwise."""
    office = db.session.scalar(sa.select(Office).where(
        Office.code == code, Office.active.is_(True), Office.public_results.is_(True)))
    if office is None:
        raise NotFound("not_found", _("There are no public results for this office."))
    return office


def set_public_results(user: User, office_id: int, public: bool) -> Office:
    """Switch an office's public results (and board) on or off; committed and audited.
    Raises NotFound outside the user's scope."""
    office = db.session.get(Office, office_id)
    if office is None or not may_see(user, office_id):
        raise NotFound("not_found", _("There is no such office."))
    with transaction():
        previous = office.public_results
        office.public_results = bool(public)
        record("office.public_results", actor=user.username, office_id=office.id,
               target=f"office:{office.code}", public=bool(public), previous=previous)
    clear_cache()
    return office


# --- results ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figure:
    code: str
    name: str
    index: float
    ci95: tuple[float, float] | None


@dataclass(frozen=True)
class MonthResult:
    month: str
    responses: int
    overall: Figure
    dimensions: tuple[Figure, ...]
    #: against the previous month shown: None (the first), else delta in points and whether
    #: the change is significant (see core.services.reports.add_changes)
    change: float | None
    significant: bool


def _ci(value: Any) -> tuple[float, float] | None:
    return (float(value[0]), float(value[1])) if value else None


def office_results(office: Office, locale: str) -> list[MonthResult]:
    """The office's published months, newest first (cached)."""
    return cached(("results", office.id, locale), lambda: _results(office, locale))


def _results(office: Office, locale: str) -> list[MonthResult]:
    last = last_complete_month()
    first = shift_month(last, -(MAX_MONTHS - 1))
    months = sorted(m for (m,) in pooled_responses(office.id, [
        shift_month(last, -k) for k in range(MAX_MONTHS)], by=("month",)) if first <= m <= last)
    if not months:
        return []
    figures = reports.month_figures(office, months, None, months[-1], locale)
    min_sample = current_app.config["MIN_SAMPLE"]
    shown = [m for m in months
             if figures[m].report["responses"] >= min_sample and figures[m].report["complete"]
             and figures[m].report["overall"] is not None
             and all(d["index"] is not None for d in figures[m].report["dimensions"])]
    out: list[MonthResult] = []
    previous: str | None = None
    for m in shown:
        report = figures[m].report
        change, significant = None, False
        if previous is not None:
            reports.add_changes(figures[m], {"previous": figures[previous]})
            found = report["change"]["previous"]
            if found is not None:
                change, significant = found["delta"], bool(found["significant"])
        out.append(MonthResult(
            m, report["responses"],
            Figure("overall", _("Overall index"), report["overall"], _ci(report["overall_ci95"])),
            tuple(Figure(d["code"], d["name"] or d["code"], d["index"], _ci(d["ci95"]))
                  for d in report["dimensions"]),
            change, significant))
        previous = m
    out.reverse()
    return out


def results_csv(office: Office, results: list[MonthResult]) -> str:
    """The published figures as CSV (UTF-8 with BOM for spreadsheets): one row per month and
    figure (overall, then each dimension)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["office_code", "office_name", "month", "responses", "figure", "name",
                     "index", "ci95_low", "ci95_high", "change_vs_previous_shown",
                     "change_significant"])
    for r in results:
        for fig in (r.overall, *r.dimensions):
            head = fig is r.overall
            writer.writerow([
                office.code, office.name, r.month, r.responses, fig.code, fig.name,
                f"{fig.index:.1f}", f"{fig.ci95[0]:.1f}" if fig.ci95 else "",
                f"{fig.ci95[1]:.1f}" if fig.ci95 else "",
                f"{r.change:.1f}" if head and r.change is not None else "",
                ("yes" if r.significant else "no") if head and r.change is not None else ""])
    return "\ufeff" + buf.getvalue()


# --- the board of published replies -------------------------------------------------------

@dataclass(frozen=True)
class BoardItem:
    month: str
    reply: str
    comment: str | None  # only when the head published it (masked before it was stored)


def board(office: Office) -> list[BoardItem]:
    """Published replies of the office and its subtree, newest month first (cached)."""
    return cached(("board", office.id), lambda: _board(office))


def _board(office: Office) -> list[BoardItem]:
    rows = db.session.execute(
        within(sa.select(Response.month, CommentHandling.public_reply, Response.comment,
                         CommentHandling.comment_public)
               .select_from(CommentHandling)
               .join(Response, Response.id == CommentHandling.response_id),
               Response.office_id, office.id)
        .where(CommentHandling.reply_public.is_(True),
               CommentHandling.public_reply.is_not(None), Response.comment.is_not(None))
        .order_by(Response.month.desc(), CommentHandling.public_reply)
        .limit(BOARD_SIZE)).all()
    return [BoardItem(month, reply, comment if comment_public else None)
            for month, reply, comment, comment_public in rows]


def publish(user: User, response_id: int, reply_public: bool, comment_public: bool
            ) -> CommentHandling | None:
    """Make a comment's public reply public (and, optionally, its masked text beside it),
    or take them back; committed and audited without the texts. Raises NotFound like
    :func:`core.services.feedback.handle_comment`, Invalid when there is no reply to publish
    or the comment would be published without a reply."""
    resp = db.session.get(Response, response_id)
    if resp is None or resp.comment is None or not may_read_comments(user, resp.office_id):
        raise NotFound("not_found", _("There is no such comment."))
    handling = db.session.get(CommentHandling, response_id)
    reply = handling.public_reply if handling else None
    if (reply_public or comment_public) and not reply:
        raise Invalid("invalid", _("Write a public reply before publishing."),
                      {"reply_public": _("there is no public reply yet")})
    if handling is None:  # nothing written, nothing to publish
        return None
    with transaction():
        handling.reply_public = bool(reply_public)
        handling.comment_public = bool(reply_public and comment_public)
        record("comment.publish", actor=user.username, office_id=resp.office_id,
               target=f"response:{response_id}", reply_public=handling.reply_public,
               comment_public=handling.comment_public)
    clear_cache()
    return handling
