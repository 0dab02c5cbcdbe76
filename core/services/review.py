"""Held-back answers: the review queue of answers stored but kept out of the figures.

A kiosk's answer is held back (``counted`` false, flag ``burst``) when it is the
``KIOSK_BURST_COUNT``-th identical pattern in a row (:mod:`core.services.kiosks`); the mixing
stage releases it like any other answer, still uncounted. Here a head or an administrator
sees the released held-back answers of their scope **grouped by office, answer pattern and
day** (the only time a released answer has), never by kiosk or counter (no answer records
either), and either

* **releases** a group into the figures: its answers become counted and are added to the
  tallies in the same transaction, exactly once, or
* **discards** it: the answers are kept (nothing is deleted) but never counted.

Both act on every group asked for in one transaction (all or nothing) and only on answers
still waiting (``review`` NULL), so repeating a request, or two reviewers at once, changes
nothing the second time (PostgreSQL re-checks the condition of a row another transaction
has just updated). Both are audited per group: office, day, how many, never the pattern.
``flask tallies rebuild`` agrees: it counts every counted answer, released ones included.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from core.errors import Invalid, NotFound
from core.extensions import db
from core.models import Office, PendingAnswer, Response, User
from core.services.audit import record
from core.services.mixing import day_start, vn_day
from core.services.pooling import within
from core.services.scope import may_see
from core.services.tallies import TallyAccumulator, TallyRow
from core.services.tx import transaction

_R = Response.__table__
#: waiting for review: written as the partial index ``ix_response_held`` is, word for word, so
#: that SQLite's planner uses it (SQLAlchemy writes ``counted = 0`` there, which it does not
#: match, and would scan every answer of the subtree)
_WAITING = sa.text("NOT response.counted AND response.review IS NULL")
#: how many groups a page lists at most (the oldest beyond it wait for the next page view)
GROUP_LIMIT = 200
_KEY = re.compile(r"^(\d{1,12}):([A-Za-z0-9._-]{1,40}):(\d{4}-\d{2}-\d{2}):([0-5]{1,64})$")


@dataclass(frozen=True)
class HeldGroup:
    """Held-back answers of one office and day with one answer pattern."""

    office_id: int
    office_code: str
    office_name: str
    instrument_id: str
    day: date
    answers: str
    count: int
    burst: int
    clock: int
    #: answer level ('1'..'5', '0' = no answer) -> how many criteria have it in the pattern
    levels: dict[str, int] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """What a form posts back to name the group."""
        return f"{self.office_id}:{self.instrument_id}:{self.day.isoformat()}:{self.answers}"


def waiting_count(office: Office) -> int:
    """Held-back answers of ``office`` and its subtree waiting for review (released by the
    mixing stage, neither released into the figures nor discarded)."""
    return int(db.session.scalar(within(sa.select(sa.func.count()).select_from(_R),
                                        _R.c.office_id, office.id).where(_WAITING)) or 0)


def pending_held_count(office: Office) -> int:
    """Held-back answers of the subtree still in the mixing stage (not reviewable yet)."""
    p = PendingAnswer.__table__
    return int(db.session.scalar(within(sa.select(sa.func.count()).select_from(p),
                                        p.c.office_id, office.id)
                                 .where(p.c.counted.is_(False))) or 0)


def held_groups(office: Office, limit: int = GROUP_LIMIT) -> list[HeldGroup]:
    """The waiting groups of ``office`` and its subtree, newest day first, then the largest."""
    n = sa.func.count().label("n")
    burst = sa.func.sum(sa.case((_R.c.flags.like("%burst%"), 1), else_=0))
    clock = sa.func.sum(sa.case((_R.c.flags.like("%clock%"), 1), else_=0))
    stmt = (within(sa.select(_R.c.office_id, Office.code, Office.name, _R.c.instrument_id,
                             _R.c.submitted_at, _R.c.answers, n, burst, clock)
                   .select_from(_R), _R.c.office_id, office.id)
            .join(Office, Office.id == _R.c.office_id)
            .where(_WAITING)
            .group_by(_R.c.office_id, Office.code, Office.name, _R.c.instrument_id,
                      _R.c.submitted_at, _R.c.answers)
            .order_by(_R.c.submitted_at.desc(), n.desc(), Office.code, _R.c.answers)
            .limit(limit))
    return [HeldGroup(oid, code, name, iid, vn_day(at), answers, count, int(b or 0),
                      int(c or 0), dict(sorted(Counter(answers).items(), reverse=True)))
            for oid, code, name, iid, at, answers, count, b, c in db.session.execute(stmt)]


@dataclass(frozen=True)
class _Key:
    office_id: int
    instrument_id: str
    day: date
    answers: str

    def where(self) -> sa.ColumnElement[bool]:
        return sa.and_(_R.c.office_id == self.office_id,
                       _R.c.instrument_id == self.instrument_id,
                       _R.c.submitted_at == day_start(self.day),
                       _R.c.answers == self.answers, _WAITING)


def _parse(user: User, keys: Sequence[str]) -> list[_Key]:
    """The distinct group keys. Raises Invalid when there is none or one is malformed,
    NotFound when one names an office outside the user's scope (nothing is done then)."""
    if not keys:
        raise Invalid("invalid", _("Choose at least one group of answers."),
                      {"group": _("Choose at least one group of answers.")})
    out = []
    for raw in dict.fromkeys(keys):
        m = _KEY.match(raw or "")
        if not m:
            raise Invalid("invalid", _("Choose at least one group of answers."),
                          {"group": _("Unknown group of answers.")})
        try:
            day = date.fromisoformat(m.group(3))
        except ValueError:
            raise Invalid("invalid", _("Choose at least one group of answers."),
                          {"group": _("Unknown group of answers.")}) from None
        key = _Key(int(m.group(1)), m.group(2), day, m.group(4))
        if not may_see(user, key.office_id):
            raise NotFound("not_found", _("There is no such group of answers."))
        out.append(key)
    return out


def release(user: User, keys: Sequence[str]) -> int:
    """Count the waiting answers of the groups ``keys`` and add them to the tallies, all in
    one committed transaction; audited per group. Returns how many answers were released
    (0 when they had been reviewed already). Raises like :func:`_parse`."""
    groups = _parse(user, keys)
    total = 0
    with transaction():
        tallies = TallyAccumulator()
        for g in groups:
            rows = db.session.execute(
                _R.update().where(g.where()).values(counted=True, review="released")
                .returning(_R.c.office_id, _R.c.month, _R.c.instrument_id, _R.c.channel,
                           _R.c.answers, _R.c.expectations)).all()
            for row in rows:
                tallies.add(TallyRow(*row))
            if rows:
                record("held.release", actor=user.username, office_id=g.office_id,
                       target=f"day:{g.day.isoformat()}", answers=len(rows))
            total += len(rows)
        tallies.write(db.session)
    return total


def discard(user: User, keys: Sequence[str]) -> int:
    """Mark the waiting answers of the groups ``keys`` as discarded (kept, never counted),
    in one committed transaction; audited per group. Returns how many answers (0 when they
    had been reviewed already). Raises like :func:`_parse`."""
    groups = _parse(user, keys)
    total = 0
    with transaction():
        for g in groups:
            n = db.session.execute(_R.update().where(g.where()).values(review="discarded")
                                   ).rowcount
            if n:
                record("held.discard", actor=user.username, office_id=g.office_id,
                       target=f"day:{g.day.isoformat()}", answers=n)
            total += n
    return total
