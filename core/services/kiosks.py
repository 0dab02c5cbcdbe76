"""Kiosk tablets: registration, one-time activation, device credentials, heartbeats and
submissions from a kiosk (rate limit, client clock window, burst flagging).

Every function that changes data commits (or rolls back and re-raises) and records an audit
event for registrations, activations, pauses, resumptions and revocations. Nothing here ever
returns a citizen's answers, per kiosk or otherwise.

Public entry points used by other areas (e.g. the admin screens):

* :func:`list_kiosks` ``(office_ids)`` -> list of :class:`KioskInfo`
* :func:`revoke_kiosk` ``(kiosk_id, actor)`` -> :class:`KioskInfo`
* :func:`pause_kiosk` ``(kiosk_id, paused=..., actor=...)`` -> :class:`KioskInfo`
* :func:`add_kiosk` ``(office, name, ...)`` -> :class:`NewKiosk` (shows the activation code
  once; :func:`activation_qr_svg` draws its link as a QR code)
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from core import errors
from core.errors import Gone, NotFound
from core.extensions import db
from core.models import Kiosk, Office
from core.ratelimit import limiter, runs
from core.services.audit import record
from core.services.intake import Stored, Submission, ValidationFailed
from core.services.mixing import claim_submission_key, hold, vn_day
from core.services.offices import ensure_collecting
from core.services.tx import transaction
from core.timeutil import utcnow

MIN_IDLE, MAX_IDLE = 2, 3600  # the CLI asks for at least 10 s; tests use 2 s
MAX_NAME = 80
CREDENTIAL_PREFIX = "sk_"


_KIOSK = Kiosk.__table__
_AUTH = (sa.select(Kiosk).options(joinedload(Kiosk.office))
         .where(Kiosk.credential_hash == sa.bindparam("digest")))
_OFFICE = Office.__table__
# the API's submission path: the few columns it needs, no ORM objects (see authenticate_device)
_AUTH_DEVICE = (sa.select(_KIOSK.c.id, _KIOSK.c.office_id, _OFFICE.c.active, _OFFICE.c.name)
                .select_from(_KIOSK.join(_OFFICE, _OFFICE.c.id == _KIOSK.c.office_id))
                .where(_KIOSK.c.credential_hash == sa.bindparam("digest"),
                       _KIOSK.c.revoked_at.is_(None)))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class KioskInfo:
    """What the admin side may see about a kiosk (no secrets, no answers)."""

    id: int
    office_id: int
    office_code: str
    office_name: str
    name: str
    status: str  # 'pending' (not activated yet), 'active', 'paused' or 'revoked'
    idle_seconds: int
    created_at: datetime
    activated_at: datetime | None
    revoked_at: datetime | None
    last_seen_at: datetime | None
    pending_reported: int | None
    rejected_reported: int | None = None
    offline_shell_reported: bool | None = None
    app_version_reported: str | None = None
    paused_at: datetime | None = None

    @classmethod
    def of(cls, kiosk: Kiosk) -> KioskInfo:
        return cls(kiosk.id, kiosk.office_id, kiosk.office.code, kiosk.office.name, kiosk.name,
                   kiosk.status, kiosk.idle_seconds, kiosk.created_at, kiosk.activated_at,
                   kiosk.revoked_at, kiosk.last_seen_at, kiosk.pending_reported,
                   kiosk.rejected_reported, kiosk.offline_shell_reported,
                   kiosk.app_version_reported, kiosk.paused_at)


@dataclass(frozen=True)
class NewKiosk:
    """A kiosk just registered, with the secret shown once: an activation code, or (for
    integrators' scripts) a device credential."""

    kiosk: KioskInfo
    activation_code: str | None = None
    credential: str | None = None


def _check_name_and_idle(name: str, idle_seconds: int) -> str:
    name = (name or "").strip()
    errors = {}
    if not name or len(name) > MAX_NAME:
        errors["name"] = _("must be 1 to %(max)s characters", max=MAX_NAME)
    if isinstance(idle_seconds, bool) or not isinstance(idle_seconds, int) \
            or not MIN_IDLE <= idle_seconds <= MAX_IDLE:
        errors["idle_seconds"] = _("must be a whole number of seconds from %(lo)s to %(hi)s",
                                   lo=MIN_IDLE, hi=MAX_IDLE)
    if errors:
        raise ValidationFailed(errors, _("The kiosk settings are not valid."))
    return name


def add_kiosk(office: Office, name: str, *, idle_seconds: int | None = None,
              with_credential: bool = False, actor: str = "system") -> NewKiosk:
    """Register a kiosk for ``office`` and counter ``name``; commits.

    Returns the one-time activation code (valid ``KIOSK_ACTIVATION_DAYS``), or with
    ``with_credential`` an already-active device credential instead. Only digests of both are
    stored. Raises ValidationFailed for a bad name or idle time, NotAllowed for an inactive
    office.
    """
    idle = current_app.config["KIOSK_IDLE_SECONDS"] if idle_seconds is None else idle_seconds
    name = _check_name_and_idle(name, idle)
    ensure_collecting(office)
    now = utcnow()
    kiosk = Kiosk(office_id=office.id, office=office, name=name, idle_seconds=idle,
                  created_at=now)
    code = credential = None
    if with_credential:
        credential = CREDENTIAL_PREFIX + secrets.token_urlsafe(32)
        kiosk.credential_hash = _digest(credential)
        kiosk.activated_at = now
    else:
        code = secrets.token_urlsafe(18)
        kiosk.activation_hash = _digest(code)
        kiosk.activation_expires_at = now + timedelta(
            days=current_app.config["KIOSK_ACTIVATION_DAYS"])
    with transaction():
        db.session.add(kiosk)
        db.session.flush()
        record("kiosk.add", actor=actor, office_id=office.id, target=f"kiosk:{kiosk.id}",
               name=name, idle_seconds=idle, credential=with_credential)
    return NewKiosk(KioskInfo.of(kiosk), code, credential)


def activation_qr_svg(link: str) -> str:
    """An SVG QR code (no external assets) of an activation ``link``, for an admin screen;
    the link itself is ``url_for("kiosk.activate", token=code, _external=True)``."""
    import qrcode
    from qrcode.image.svg import SvgPathImage

    image = qrcode.make(link, image_factory=SvgPathImage, border=2)
    return image.to_string(encoding="unicode")


def _activation_invalid() -> Gone:
    return Gone("activation_invalid", _("This activation link has already been used or has "
                                        "expired. Ask the administrator for a new one."))


def kiosk_for_activation(code: str) -> Kiosk:
    """The kiosk an unused, unexpired activation code belongs to (nothing changes).

    Raises Gone when the code is unknown, used, expired or the kiosk revoked.
    """
    kiosk = db.session.scalar(sa.select(Kiosk).where(Kiosk.activation_hash == _digest(code)))
    if kiosk is None or kiosk.revoked_at is not None or kiosk.activation_expires_at is None \
            or kiosk.activation_expires_at < utcnow():
        raise _activation_invalid()
    return kiosk


def activate_kiosk(code: str, actor: str = "device") -> tuple[KioskInfo, str]:
    """Use a one-time activation code: returns the kiosk and its new device credential;
    the code cannot be used again. Commits. Raises Gone like
    :func:`kiosk_for_activation` (also when two devices race for the same code)."""
    kiosk = kiosk_for_activation(code)
    credential = CREDENTIAL_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    with transaction():
        # Compare-and-set on the code digest: only one activation can win.
        done = db.session.execute(
            sa.update(Kiosk).where(Kiosk.id == kiosk.id,
                                   Kiosk.activation_hash == _digest(code),
                                   Kiosk.revoked_at.is_(None))
            .values(activation_hash=None, activation_expires_at=None,
                    credential_hash=_digest(credential), activated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if done != 1:
            raise _activation_invalid()
        record("kiosk.activate", actor=actor, office_id=kiosk.office_id,
               target=f"kiosk:{kiosk.id}")
    db.session.refresh(kiosk)
    return KioskInfo.of(kiosk), credential


def revoke_kiosk(kiosk_id: int, actor: str) -> KioskInfo:
    """Revoke a kiosk at once: its credential and any unused activation code stop working.
    Revoking a revoked kiosk changes nothing. Commits. Raises NotFound for an unknown id.

    The caller checks that ``actor`` may manage the kiosk's office.
    """
    kiosk = db.session.get(Kiosk, kiosk_id)
    if kiosk is None:
        raise NotFound("not_found", _("No kiosk with number %(id)s.", id=kiosk_id))
    if kiosk.revoked_at is None:
        with transaction():
            kiosk.revoked_at = utcnow()
            kiosk.activation_hash = None
            kiosk.activation_expires_at = None
            record("kiosk.revoke", actor=actor, office_id=kiosk.office_id,
                   target=f"kiosk:{kiosk.id}")
    return KioskInfo.of(kiosk)


def pause_kiosk(kiosk_id: int, *, paused: bool, actor: str) -> KioskInfo:
    """Pause a kiosk (``paused``) or resume it. A paused tablet shows a "paused" screen
    instead of the questionnaire (its heartbeat says ``paused``, its page reloads once no
    citizen is using it and its offline queue is empty) but its credential keeps working:
    the answers it already holds are still accepted. Audited (``kiosk.pause`` /
    ``kiosk.resume``) and committed only when the state changes; pausing a paused kiosk or
    resuming a running one changes nothing. Raises NotFound for an unknown id, Conflict for
    a revoked kiosk.

    The caller checks that ``actor`` may manage the kiosk's office.
    """
    kiosk = db.session.get(Kiosk, kiosk_id)
    if kiosk is None:
        raise NotFound("not_found", _("No kiosk with number %(id)s.", id=kiosk_id))
    if kiosk.revoked_at is not None:
        raise errors.Conflict("kiosk_revoked", _("This tablet has been revoked."))
    if paused != (kiosk.paused_at is not None):
        with transaction():
            kiosk.paused_at = utcnow() if paused else None
            record("kiosk.pause" if paused else "kiosk.resume", actor=actor,
                   office_id=kiosk.office_id, target=f"kiosk:{kiosk.id}")
    return KioskInfo.of(kiosk)


def list_kiosks(office_ids: Iterable[int] | None = None) -> list[KioskInfo]:
    """Kiosks of the given offices (all offices when ``office_ids`` is None), ordered by
    office code then counter name. The caller decides which offices a user may see."""
    stmt = sa.select(Kiosk).join(Kiosk.office).order_by(Office.code, Kiosk.name, Kiosk.id)
    if office_ids is not None:
        ids = list(office_ids)
        if not ids:
            return []
        stmt = stmt.where(Kiosk.office_id.in_(ids))
    return [KioskInfo.of(k) for k in db.session.scalars(stmt)]


def authenticate(credential: str | None) -> Kiosk | None:
    """The kiosk holding ``credential``, or None (unknown, revoked, empty). A paused kiosk
    is authenticated: it still sends the answers it holds."""
    if not credential or len(credential) > 200:
        return None
    kiosk = db.session.scalar(_AUTH, {"digest": _digest(credential)})
    if kiosk is None or kiosk.revoked_at is not None:
        return None
    return kiosk


@dataclass(frozen=True)
class OfficeRef:
    """What storing a submission needs to know about the kiosk's office."""

    id: int
    active: bool
    name: str


@dataclass(frozen=True)
class KioskRef:
    """An authenticated kiosk as the submission path sees it (read in the request's own
    transaction; nothing is cached across requests)."""

    id: int
    office_id: int
    office: OfficeRef


def authenticate_device(credential: str | None) -> KioskRef | None:
    """Like :func:`authenticate`, in one Core SELECT of the few columns a submission needs
    (kiosk joined to its office, revoked kiosks excluded, paused ones not), without loading
    ORM objects.

    Read from the database on every call: a revocation takes effect with the next request.
    """
    if not credential or len(credential) > 200:
        return None
    row = db.session.connection().execute(_AUTH_DEVICE, {"digest": _digest(credential)}).first()
    if row is None:
        return None
    kid, office_id, active, office_name = row
    return KioskRef(kid, office_id, OfficeRef(office_id, bool(active), office_name))


#: what a heartbeat may report as the kiosk app's version
_APP_VERSION = re.compile(r"[0-9a-f]{1,32}")


def heartbeat(kiosk: Kiosk, pending: Any, rejected: Any = None,
              offline_shell: Any = None, app_version: Any = None) -> dict[str, Any]:
    """Record that the kiosk is alive, how many submissions wait in its offline queue, how
    many it has set aside (refused for good) and whether its page runs under the offline
    shell (its service worker) and which version of the kiosk app it runs. Commits. Returns
    the settings the tablet should use and whether it is paused (the page then reloads to
    its "paused" screen once nobody is using it and its queue is empty). Raises
    ValidationFailed naming each count that is not a whole number from 0 to 100000, an
    ``offline_shell`` that is not true or false and an ``app_version`` that is not 1-32
    lowercase hexadecimal digits."""
    problems = {name: _("must be a whole number from 0 to 100000")
                for name, value in (("pending", pending), ("rejected", rejected))
                if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                          or not 0 <= value <= 100_000)}
    if offline_shell is not None and not isinstance(offline_shell, bool):
        problems["offline_shell"] = _("must be true or false")
    if app_version is not None and (not isinstance(app_version, str)
                                    or not _APP_VERSION.fullmatch(app_version)):
        problems["app_version"] = _("must be 1 to 32 hexadecimal digits")
    if problems:
        raise ValidationFailed(problems)
    with transaction():
        kiosk.last_seen_at = utcnow()
        if offline_shell is not None:
            kiosk.offline_shell_reported = offline_shell
        if app_version is not None:
            kiosk.app_version_reported = app_version
        if pending is not None:
            kiosk.pending_reported = pending
        if rejected is not None:
            kiosk.rejected_reported = rejected
    return {"idle_seconds": kiosk.idle_seconds,
            "thanks_seconds": current_app.config["KIOSK_THANKS_SECONDS"],
            "server_time": utcnow().isoformat().replace("+00:00", "Z"),
            "paused": kiosk.paused_at is not None}


# --- submissions --------------------------------------------------------------------------

class RateLimited(errors.RateLimited):
    def __init__(self, retry_after: int) -> None:
        super().__init__("rate_limited", _("This kiosk is sending too fast. Please wait a "
                                           "moment and try again."), retry_after=retry_after)


def _in_window(moment: datetime, now: datetime) -> bool:
    cfg = current_app.config
    return (now - timedelta(days=cfg["KIOSK_CLOCK_WINDOW_DAYS"]) <= moment
            <= now + timedelta(seconds=cfg["KIOSK_CLOCK_SKEW_SECONDS"]))


def _is_burst(kiosk_id: int, instrument_id: str, answers: str) -> bool:
    """Whether this answer pattern makes a burst: the ``KIOSK_BURST_COUNT``-th identical
    pattern in a row from one kiosk within ``KIOSK_BURST_WINDOW_SECONDS`` (server time) of the
    run's first one. The run lives in the rate-limit store only, keyed digest of the pattern,
    forgotten when the window ends (:class:`core.ratelimit.RunCounter`)."""
    cfg = current_app.config
    if cfg["KIOSK_BURST_COUNT"] <= 0:
        return False
    key = str(cfg["SECRET_KEY"]).encode("utf-8")
    digest = hmac.new(key, f"{instrument_id}:{answers}".encode(), hashlib.sha256).hexdigest()
    run = runs().next(f"kiosk-burst:{kiosk_id}", digest, int(cfg["KIOSK_BURST_WINDOW_SECONDS"]))
    return run >= cfg["KIOSK_BURST_COUNT"]


class KioskDoor:
    """The kiosk channel of :func:`core.services.intake.submit` (the JSON API and the
    no-JavaScript form): the device was authenticated by the caller; the client chooses a
    submission id, so a re-sent submission stores nothing and is never rate limited.

    * a ``submitted_at`` outside the window (future, or older than KIOSK_CLOCK_WINDOW_DAYS)
      is replaced by the server time and the response flagged ``clock``; only its Vietnam
      day is kept (``started_at`` is not stored at all);
    * the ``KIOSK_BURST_COUNT``-th identical pattern in a row is stored uncounted, ``burst``;
    * one new response per ``KIOSK_MIN_SECONDS_BETWEEN`` per kiosk, else RateLimited.

    Nothing about the kiosk is written in the answer's transaction: the answer is pending
    (:func:`core.services.mixing.hold`) and the submission id's digest is claimed; the rate
    limit and the burst run are in the rate-limit store; liveness comes from heartbeats.
    """

    channel = "kiosk"
    require_id = True

    def __init__(self, kiosk: Kiosk | KioskRef) -> None:
        self.kiosk = kiosk

    def admit(self) -> Any:
        return self.kiosk.office

    def store(self, submission: Submission, office: Any) -> Stored:
        kiosk = self.kiosk
        gap = current_app.config["KIOSK_MIN_SECONDS_BETWEEN"]
        now = utcnow()
        flags: list[str] = []
        submitted = submission.submitted_at
        if submitted is not None and not _in_window(submitted, now):
            flags.append("clock")
            submitted = None
        effective = min(submitted, now) if submitted else now
        uid = submission.uuid
        assert uid is not None
        conn = db.session.connection()  # the transaction the credential's lookup began
        if not claim_submission_key(uid, conn=conn):  # a re-sent copy: leave all as it was
            return Stored(uid, False)
        # the rate limit counts new responses only (a replay above is never limited); the
        # claim is rolled back when the kiosk is sending too fast
        if gap and not limiter().hit("kiosk-submit", str(kiosk.id), f"1/{gap}second"):
            raise RateLimited(int(gap))
        clean = submission.response
        burst = _is_burst(kiosk.id, clean.instrument_id, clean.answers)
        if burst:
            flags.append("burst")
        hold(clean, office.id, "kiosk", vn_day(effective), counted=not burst,
             flags=",".join(flags) or None, conn=conn)
        return Stored(uid, True, tuple(flags))


# --- settings and status for the admin screens (the same functions as `flask kiosks`) -----

def update_kiosk(kiosk_id: int, *, name: str | None = None, idle_seconds: int | None = None,
                 actor: str) -> KioskInfo:
    """Rename a kiosk and/or set its idle time (the tablet picks it up with its next
    heartbeat). Audited (``kiosk.update``) when something changed; commits. Raises NotFound,
    ValidationFailed (bad name or idle time) or Conflict for a revoked kiosk. The caller
    checks that ``actor`` may manage the kiosk's office."""
    kiosk = db.session.get(Kiosk, kiosk_id)
    if kiosk is None:
        raise NotFound("not_found", _("No kiosk with number %(id)s.", id=kiosk_id))
    if kiosk.revoked_at is not None:
        raise errors.Conflict("kiosk_revoked", _("This tablet has been revoked."))
    new_name = _check_name_and_idle(kiosk.name if name is None else name,
                                    kiosk.idle_seconds if idle_seconds is None else idle_seconds)
    new_idle = kiosk.idle_seconds if idle_seconds is None else idle_seconds
    changed = {k: v for k, v in (("name", new_name), ("idle_seconds", new_idle))
               if getattr(kiosk, k) != v}
    if changed:
        with transaction():
            for key, value in changed.items():
                setattr(kiosk, key, value)
            record("kiosk.update", actor=actor, office_id=kiosk.office_id,
                   target=f"kiosk:{kiosk.id}", **changed)
    return KioskInfo.of(kiosk)


HOURS_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


def parse_hours(hours: str | None) -> list[tuple[time, time]]:
    """``"07:30-11:30,13:30-17:00"`` as (start, end) pairs. Raises ValidationFailed."""
    spans = []
    for part in (hours or "").replace(" ", "").split(","):
        if not part:
            continue
        if not HOURS_RE.match(part):
            raise ValidationFailed({"opening_hours": _(
                "must be times like 07:30-11:30,13:30-17:00")}, _("The opening hours are not "
                                                                  "valid."))
        start, end = (time.fromisoformat(t) for t in part.split("-"))
        if end <= start:
            raise ValidationFailed({"opening_hours": _("each period must end after it starts")},
                                   _("The opening hours are not valid."))
        spans.append((start, end))
    return spans


def set_opening_hours(office: Office, hours: str | None, days: str | None,
                      actor: str) -> None:
    """Set when the office's desk is open (Vietnam time): ``hours`` like
    ``07:30-11:30,13:30-17:00`` (empty: not set), on ``days`` (ISO weekday digits,
    ``12345`` = Monday to Friday). Audited (``office.hours``); commits. Raises
    ValidationFailed."""
    spans = parse_hours(hours)
    day_digits = "".join(sorted(set((days or "").replace(",", "").replace(" ", ""))))
    if day_digits and not set(day_digits) <= set("1234567"):
        raise ValidationFailed({"opening_days": _("must be weekday digits 1 (Monday) to 7 "
                                                  "(Sunday)")},
                               _("The opening hours are not valid."))
    text = ",".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in spans) or None
    day_digits = (day_digits or "12345") if text else None
    if (office.opening_hours, office.opening_days) == (text, day_digits):
        return
    with transaction():
        office.opening_hours, office.opening_days = text, day_digits
        record("office.hours", actor=actor, office_id=office.id, target=f"office:{office.code}",
               hours=text, days=day_digits)


def is_open(office: Any, moment: datetime | None = None) -> bool:
    """Whether the office's desk is open at ``moment`` (default now), by its opening hours;
    False when none are set."""
    from core.timeutil import VN_TZ

    if not office.opening_hours:
        return False
    local = (moment or utcnow()).astimezone(VN_TZ)
    if str(local.isoweekday()) not in (office.opening_days or "12345"):
        return False
    now = local.time()
    return any(a <= now < b for a, b in parse_hours(office.opening_hours))


def online_window() -> timedelta:
    """A tablet is online when its last heartbeat is younger than three heartbeat periods."""
    return timedelta(seconds=3 * int(current_app.config["KIOSK_HEARTBEAT_SECONDS"]))


def is_online(info: KioskInfo, now: datetime | None = None) -> bool:
    """Whether an active tablet has sent a heartbeat within :func:`online_window`; never for
    a pending, paused or revoked one (they are neither online nor offline)."""
    return (info.status == "active" and info.last_seen_at is not None
            and (now or utcnow()) - info.last_seen_at < online_window())


def offline_while_open(office_ids: Iterable[int] | None, now: datetime | None = None
                       ) -> list[KioskInfo]:
    """Active tablets of these offices that are offline while their office is open (for
    the head's dashboard); a paused tablet is not expected to be heard from."""
    now = now or utcnow()
    offices = {o.id: o for o in db.session.scalars(sa.select(Office))}
    return [k for k in list_kiosks(office_ids)
            if k.status == "active" and not is_online(k, now)
            and is_open(offices[k.office_id], now)]
