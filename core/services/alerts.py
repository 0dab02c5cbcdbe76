"""E-mail alerts for office heads (``flask alerts send``, from cron), in Vietnamese, each with
a link to the exact page (``PUBLIC_BASE_URL``).

Each subscription (:class:`~core.models.AlertSubscription`: a user, an office and its subtree,
an address) chooses among:

* ``digest``: for each **released office-day** (its answers are in ``response`` and nothing of
  that day or earlier is still pending in the mixing stage), how many answers, how many with a
  low average (below 3 of 5) and how many comments. Never in real time (a message seconds
  after a citizen pressed Send would identify them), and counts only: a list of the comments
  that came with low scores would give each of them its writer's rating. Days from the day
  before the subscription was made, at most ``ALERT_DIGEST_DAYS`` back;
* ``offline``: an active tablet not heard from for ``ALERT_OFFLINE_MINUTES`` while its office
  is open (:func:`office_is_open`), at most once per tablet and day (a paused or revoked
  tablet is not expected to be heard from);
* ``report``: the previous month's figures are complete (nothing of the month pending), once
  per office and month;
* ``held``: held-back answers wait for review (:mod:`core.services.review`), once a day.

Nothing is sent twice: an alert is first claimed in ``alert_sent`` (unique kind, key and
address) and committed, then sent; a failed send removes the claim so the next run retries.
Nothing is sent when ``MAIL_URL`` (``SIPAS_MAIL_URL``) is unset.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from core.errors import Invalid
from core.extensions import db
from core.i18n import fmt_date, fmt_month, fmt_number
from core.models import (
    AlertSent,
    AlertSubscription,
    Kiosk,
    Office,
    PendingAnswer,
    Response,
    User,
)
from core.services import review
from core.services.audit import record
from core.services.mixing import day_start, vn_day
from core.services.pooling import within
from core.services.scope import can, may_see
from core.services.tx import transaction
from core.timeutil import VN_TZ, utcnow

KINDS = ("digest", "offline", "report", "held")
#: an answer is "low" when the average of its answered criteria is below this
LOW_AVERAGE = 3.0


# --- opening hours (the hook) --------------------------------------------------------------

#: ``(office, moment) -> bool``: whether the office is open at an aware moment. An office's
#: own opening hours (set on the tablets page or with ``flask offices hours``) apply; offices
#: without their own hours use :func:`default_opening_hours`. A deployment may replace the
#: whole rule with :func:`set_opening_hours`.
OpeningHours = Callable[[Office, datetime], bool]
_opening_hours: OpeningHours | None = None


def set_opening_hours(hook: OpeningHours | None) -> None:
    """Install the function that tells whether an office is open (None: the default)."""
    global _opening_hours
    _opening_hours = hook


def default_opening_hours(office: Office, moment: datetime) -> bool:
    """``ALERT_OPENING_HOURS`` (e.g. "07:30-11:30,13:30-17:00") on ``ALERT_OPENING_DAYS``
    (0 = Monday), Vietnam time, for every office."""
    local = moment.astimezone(VN_TZ)
    if local.weekday() not in current_app.config["ALERT_OPENING_DAYS"]:
        return False
    now = local.strftime("%H:%M")
    for span in str(current_app.config["ALERT_OPENING_HOURS"]).split(","):
        start, _sep, end = span.strip().partition("-")
        if start <= now < end:
            return True
    return False


def office_is_open(office: Office, moment: datetime) -> bool:
    """Whether ``office`` is open at ``moment``: the installed hook, else the office's own
    hours (the same rule as the dashboard's offline flag), else the configured default."""
    if _opening_hours is not None:
        return _opening_hours(office, moment)
    if office.opening_hours:
        from core.services.kiosks import is_open

        return is_open(office, moment)
    return default_opening_hours(office, moment)


# --- subscriptions ---------------------------------------------------------------------------

def subscriptions_of(user: User) -> dict[int, AlertSubscription]:
    """Office id -> the user's subscription for it."""
    return {s.office_id: s for s in db.session.scalars(
        sa.select(AlertSubscription).where(AlertSubscription.user_id == user.id))}


def save_subscription(user: User, office: Office, email: str, kinds: set[str]) -> None:
    """Set what ``user`` hears about ``office`` (no kind: the subscription is removed).
    Committed and audited without the address. Raises Invalid for an address that is not
    one, NotFound (via the caller's scope check) for an office out of reach."""
    email = (email or "").strip()
    if not may_see(user, office.id) or not can(user, "alerts"):
        raise Invalid("invalid", _("The alerts were not saved."),
                      {"office": _("Unknown office.")})
    kinds = kinds & set(KINDS)
    if kinds and (len(email) > 254 or "@" not in email or " " in email
                  or email.startswith("@") or email.endswith("@")):
        raise Invalid("invalid", _("The alerts were not saved."),
                      {"email": _("must be an e-mail address")})
    with transaction():
        sub = db.session.scalar(sa.select(AlertSubscription).where(
            AlertSubscription.user_id == user.id, AlertSubscription.office_id == office.id))
        if not kinds:
            if sub is not None:
                db.session.delete(sub)
        else:
            if sub is None:
                sub = AlertSubscription(user_id=user.id, office_id=office.id)
                db.session.add(sub)
            sub.email = email
            for kind in KINDS:
                setattr(sub, kind, kind in kinds)
            sub.updated_at = utcnow()
        record("alerts.subscribe", actor=user.username, office_id=office.id,
               kinds=sorted(kinds))


# --- what is due -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Alert:
    kind: str
    key: str
    email: str
    subject: str
    body: str


def _link(path: str, **params: str) -> str:
    base = str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/")
    return f"{base}{path}" + (f"?{urlencode(params)}" if params else "")


def _pending_until(office: Office, day: date) -> bool:
    """Whether anything of ``office``'s subtree dated ``day`` or before is still pending."""
    p = PendingAnswer.__table__
    return db.session.scalar(within(sa.select(sa.func.count()).select_from(p),
                                    p.c.office_id, office.id).where(p.c.day <= day)) > 0


def _low(answers: str) -> bool:
    marks = [int(ch) for ch in answers if ch != "0"]
    return bool(marks) and sum(marks) / len(marks) < LOW_AVERAGE


def _digests(sub: AlertSubscription, office: Office, today: date) -> list[Alert]:
    oldest = max(today - timedelta(days=int(current_app.config["ALERT_DIGEST_DAYS"])),
                 vn_day(sub.created_at) - timedelta(days=1))
    r = Response.__table__
    days = db.session.scalars(
        within(sa.select(r.c.submitted_at).select_from(r), r.c.office_id, office.id)
        .where(r.c.submitted_at >= day_start(oldest), r.c.submitted_at < day_start(today))
        .group_by(r.c.submitted_at).order_by(r.c.submitted_at)).all()
    out = []
    for at in days:
        day = vn_day(at)
        if _pending_until(office, day):
            break  # this day (and the later ones) not wholly released yet
        rows = db.session.execute(
            within(sa.select(r.c.answers, r.c.comment).select_from(r), r.c.office_id,
                   office.id).where(r.c.submitted_at == at, r.c.counted.is_(True))).all()
        if not rows:
            continue
        low = sum(_low(a) for a, _c in rows)
        comments = sum(c is not None for _a, c in rows)
        when = fmt_date(day)
        link = _link("/admin/comments", office=office.code, month=day.strftime("%Y-%m"))
        subject = _("SIPAS: answers of %(day)s at %(office)s", day=when, office=office.name)
        body = "\n".join([
            _("Answers released for %(day)s at %(office)s and the offices under it:",
              day=when, office=office.name),
            "",
            _("Answers: %(n)s", n=fmt_number(len(rows))),
            _("Answers with a low average (below 3 of 5): %(n)s", n=fmt_number(low)),
            _("Comments: %(n)s", n=fmt_number(comments)),
            "",
            _("Comments are not listed with their scores, so that nobody can tell how their "
              "writer rated."),
            _("Read and handle the comments: %(link)s", link=link),
        ])
        out.append(Alert("digest", f"{office.id}:{day.isoformat()}", sub.email, subject,
                         body))
    return out


def _offline(sub: AlertSubscription, office: Office, now: datetime) -> list[Alert]:
    if not office_is_open(office, now):
        return []
    silent = now - timedelta(minutes=int(current_app.config["ALERT_OFFLINE_MINUTES"]))
    kiosks = db.session.scalars(
        within(sa.select(Kiosk), Kiosk.office_id, office.id)
        .where(Kiosk.revoked_at.is_(None), Kiosk.paused_at.is_(None),
               Kiosk.last_seen_at.is_not(None), Kiosk.last_seen_at < silent)
        .order_by(Kiosk.id)).all()
    today = vn_day(now)
    link = _link("/admin/kiosks", office=office.code)
    return [Alert("offline", f"{k.id}:{today.isoformat()}", sub.email,
                  _("SIPAS: the tablet %(name)s is not connected", name=k.name),
                  "\n".join([
                      _("The desk tablet %(name)s of %(office)s has not been heard from since "
                        "%(time)s, during opening hours.", name=k.name, office=office.name,
                        time=k.last_seen_at.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")),
                      _("Check that it is switched on and connected: %(link)s", link=link)]))
            for k in kiosks]


def _report(sub: AlertSubscription, office: Office, today: date) -> list[Alert]:
    last = today.replace(day=1) - timedelta(days=1)
    month = last.strftime("%Y-%m")
    if _pending_until(office, last):
        return []
    r = Response.__table__
    n = db.session.scalar(within(sa.select(sa.func.count()).select_from(r), r.c.office_id,
                                 office.id).where(r.c.month == month, r.c.counted.is_(True)))
    if not n:
        return []
    link = _link("/admin/", office=office.code, month=month)
    name = fmt_month(month)
    return [Alert("report", f"{office.id}:{month}", sub.email,
                  _("SIPAS: the report of %(month)s for %(office)s is ready", month=name,
                    office=office.name),
                  "\n".join([_("Every answer of %(month)s is in the figures (%(n)s answers). "
                               "The report is ready for review.", month=name,
                               n=fmt_number(n)),
                             _("Open the report: %(link)s", link=link)]))]


def _held(sub: AlertSubscription, office: Office, today: date) -> list[Alert]:
    n = review.waiting_count(office)
    if not n:
        return []
    link = _link("/admin/held", office=office.code)
    return [Alert("held", f"{office.id}:{today.isoformat()}", sub.email,
                  _("SIPAS: %(n)s held-back answers wait for review", n=fmt_number(n)),
                  "\n".join([_("%(n)s answers of %(office)s were held back (the same answers "
                               "several times in a row) and wait for someone to count or "
                               "discard them.", n=fmt_number(n), office=office.name),
                             _("Review them: %(link)s", link=link)]))]


def due(now: datetime | None = None) -> list[Alert]:
    """Every alert due now for every subscription, in Vietnamese, whether sent before or not
    (:func:`send_due` leaves those out). Users no longer active, or no longer allowed to see
    the office, get nothing."""
    now = now or utcnow()
    today = vn_day(now)
    out: list[Alert] = []
    subs = db.session.execute(
        sa.select(AlertSubscription, User, Office)
        .join(User, User.id == AlertSubscription.user_id)
        .join(Office, Office.id == AlertSubscription.office_id)
        .order_by(AlertSubscription.id)).all()
    with force_locale("vi"):
        for sub, user, office in subs:
            if not user.active or not can(user, "alerts") or not may_see(user, office.id):
                continue
            if sub.digest:
                out += _digests(sub, office, today)
            if sub.offline:
                out += _offline(sub, office, now)
            if sub.report:
                out += _report(sub, office, today)
            if sub.held:
                out += _held(sub, office, today)
    return out


# --- sending ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    tls: str  # "ssl" (smtps://), "starttls" (?starttls=1) or "" (plain, e.g. a local relay)
    username: str | None
    password: str | None
    sender: str


def mail_settings() -> MailSettings | None:
    """The SMTP server from ``MAIL_URL`` (``smtp://[user:password@]host[:port][?from=...&
    starttls=1]`` or ``smtps://...``); None when unset. Raises Invalid when malformed."""
    url = current_app.config.get("MAIL_URL")
    if not url:
        return None
    parts = urlsplit(str(url))
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise Invalid("invalid", "MAIL_URL must look like smtp://user:password@host:port")
    query = parse_qs(parts.query)
    tls = "ssl" if parts.scheme == "smtps" else (
        "starttls" if query.get("starttls", ["0"])[0] in ("1", "true") else "")
    sender = query.get("from", [current_app.config["MAIL_FROM"]])[0]
    return MailSettings(parts.hostname, parts.port or (465 if tls == "ssl" else 25), tls,
                        unquote(parts.username) if parts.username else None,
                        unquote(parts.password) if parts.password else None, sender)


def _message(alert: Alert, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = alert.subject
    msg["From"] = formataddr(("SIPAS", sender))
    msg["To"] = alert.email
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "sipas")
    msg.set_content(alert.body, charset="utf-8")
    return msg


@dataclass
class SendReport:
    sent: int = 0
    skipped: int = 0  # sent before
    failed: int = 0


def _claim(alert: Alert) -> int | None:
    """Record the alert as sent (committed) unless it was; its row id, or None."""
    try:
        with transaction():
            row = AlertSent(kind=alert.kind, key=alert.key, email=alert.email)
            db.session.add(row)
            db.session.flush()
            return row.id
    except sa.exc.IntegrityError:
        return None


def send_due(now: datetime | None = None) -> SendReport | None:
    """Send every due alert not sent before; None (nothing done) without ``MAIL_URL``.
    Raises Invalid when ``PUBLIC_BASE_URL`` is unset (the links need it)."""
    settings = mail_settings()
    if settings is None:
        return None
    if not current_app.config.get("PUBLIC_BASE_URL"):
        raise Invalid("invalid", "PUBLIC_BASE_URL must be set for the links in e-mails")
    alerts = due(now)
    db.session.rollback()
    report = SendReport()
    sent_before = {(k, key, e) for k, key, e in db.session.execute(
        sa.select(AlertSent.kind, AlertSent.key, AlertSent.email))}
    db.session.rollback()
    todo = [a for a in alerts if (a.kind, a.key, a.email) not in sent_before]
    report.skipped = len(alerts) - len(todo)
    if not todo:
        return report
    smtp_class = smtplib.SMTP_SSL if settings.tls == "ssl" else smtplib.SMTP
    with smtp_class(settings.host, settings.port, timeout=30) as smtp:
        if settings.tls == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        for alert in todo:
            claim = _claim(alert)
            if claim is None:  # another run sent it meanwhile
                report.skipped += 1
                continue
            try:
                smtp.send_message(_message(alert, settings.sender))
            except smtplib.SMTPException as exc:
                with transaction():
                    db.session.execute(sa.delete(AlertSent).where(AlertSent.id == claim))
                report.failed += 1
                current_app.logger.warning("alerts: sending failed",
                                           extra={"fields": {"kind": alert.kind,
                                                             "error": type(exc).__name__}})
            else:
                report.sent += 1
    return report
