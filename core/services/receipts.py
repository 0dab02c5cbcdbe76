"""Receipt links: office API keys, minting one link per dossier, verifying and using tokens.

A token is ``<token_id>.<signature>``: ``token_id`` is random and recorded in ``receipt``,
the signature is an HMAC (itsdangerous) under a receipt key (below). A token is accepted only
when both hold, so a forged or altered token fails before any lookup, and a token that was never
minted fails even with a valid signature. A receipt is used at most once: the ``receipt_use``
row (primary key = receipt id) is inserted in the same transaction as the pending answer, so
the database refuses a second use even when two submissions race.

Nothing links a response to a receipt: ``receipt_use`` holds only the receipt id; the answer
waits as a pending row holding nothing of the receipt (not even its procedure) and enters
``response`` later, mixed with the office-day's other answers (:mod:`core.services.mixing`).

Receipt keys (:mod:`core.receipt_keys`) are not ``SECRET_KEY``: the newest key of the ring
signs new links and hashes new dossier codes; every key verifies the links it signed and finds
the dossiers it hashed, so rotating keys keeps printed receipts and answered dossiers as they
were.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, Signer, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from core.errors import (
    Conflict,
    DomainError,
    Gone,
    Invalid,
    NotAllowed,
    NotFound,
    RateLimited,
    Unauthenticated,
)
from core.extensions import db
from core.models import GenericFormUse, Office, OfficeApiKey, Receipt, ReceiptUse
from core.ratelimit import limiter
from core.receipt_keys import ReceiptKey, receipt_keys
from core.services import audit
from core.services.common import upsert
from core.services.intake import Stored, Submission, ValidationFailed, clean_text, limits
from core.services.mixing import hold, vn_day
from core.services.offices import ensure_collecting, get_office
from core.services.tx import transaction
from core.timeutil import utcnow

#: Loose dossier-code check (SIPAS.md §6): letters, digits and . - _ / ; at least one digit.
DOSSIER_RE = re.compile(r"^[A-Z0-9][A-Z0-9._/-]{3,63}$")
KEY_PREFIX = "sipas_"
TOKEN_SALT = "sipas.receipt"  # noqa: S105 - a salt, not a secret
FORM_SALT = "sipas.generic-form"


# -- API keys -----------------------------------------------------------------------------

def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_api_key(office_code: str, label: str | None = None,
                   actor: str = "cli") -> tuple[OfficeApiKey, str]:
    """Create a key for an office and commit. Returns (row, the key in clear: show it once).
    Raises NotFound for an unknown office."""
    office = get_office(office_code)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = OfficeApiKey(office_id=office.id, prefix=key[:14], key_hash=_hash_key(key),
                       label=(label or "").strip()[:80] or None)
    with transaction():
        db.session.add(row)
        db.session.flush()
        audit.record("apikey.create", actor=actor, office_id=office.id,
                     target=f"apikey:{row.prefix}", label=row.label)
    return row, key


def label_api_key(prefix: str, label: str | None, actor: str = "cli") -> OfficeApiKey:
    """Set what a key is for (at most 80 characters; empty clears it). Audited; commits.
    Raises NotFound."""
    row = find_api_key(prefix)
    new = (label or "").strip()[:80] or None
    if row.label != new:
        with transaction():
            row.label = new
            audit.record("apikey.label", actor=actor, office_id=row.office_id,
                         target=f"apikey:{row.prefix}", label=new)
    return row


def list_api_keys(office_code: str | None = None, office_ids: Any = None
                  ) -> list[OfficeApiKey]:
    """Every key (newest first), or only one office's, or only those of ``office_ids``.
    Raises NotFound for an unknown office."""
    stmt = sa.select(OfficeApiKey).order_by(OfficeApiKey.created_at.desc(), OfficeApiKey.id.desc())
    if office_code:
        stmt = stmt.where(OfficeApiKey.office_id == get_office(office_code).id)
    if office_ids is not None:
        stmt = stmt.where(OfficeApiKey.office_id.in_(list(office_ids) or [-1]))
    return list(db.session.scalars(stmt))


def find_api_key(prefix: str) -> OfficeApiKey:
    """The key with this prefix (as listed). Raises NotFound."""
    row = db.session.scalar(sa.select(OfficeApiKey).where(OfficeApiKey.prefix == prefix))
    if row is None:
        raise NotFound("unknown_key", _("There is no API key %(prefix)s.", prefix=prefix))
    return row


def revoke_api_key(prefix: str, actor: str = "cli", withdraw_links: bool = False
                   ) -> OfficeApiKey:
    """Revoke the key with this prefix (idempotent) and commit: it can no longer mint
    links. The links it already minted (printed on receipts) keep working unless
    ``withdraw_links``: then they stop working too (``apikey.withdraw_links``). Raises
    NotFound."""
    row = find_api_key(prefix)
    with transaction():
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            audit.record("apikey.revoke", actor=actor, office_id=row.office_id,
                         target=f"apikey:{row.prefix}")
        if withdraw_links and row.links_withdrawn_at is None:
            row.links_withdrawn_at = utcnow()
            audit.record("apikey.withdraw_links", actor=actor, office_id=row.office_id,
                         target=f"apikey:{row.prefix}")
    return row


def authenticate_key(key: str | None) -> OfficeApiKey:
    """The active office API key ``key`` (as presented by a caller, e.g. from an
    ``Authorization: Bearer <key>`` header). Raises Unauthenticated when it is missing,
    unknown or revoked."""
    if not key:
        raise Unauthenticated("unauthorized", _("An office API key is required "
                                         "(Authorization: Bearer <key>)."))
    row = db.session.scalar(sa.select(OfficeApiKey).where(OfficeApiKey.key_hash == _hash_key(key)))
    if row is None:
        raise Unauthenticated("unauthorized", _("This API key is not valid."))
    if row.revoked:
        raise Unauthenticated("key_revoked", _("This API key has been revoked."))
    return row


# -- minting ------------------------------------------------------------------------------

def normalize_dossier_code(raw: Any) -> str:
    """Strip and upper-case a dossier code. Raises Invalid."""
    code = raw.strip().upper() if isinstance(raw, str) else ""
    if not DOSSIER_RE.match(code) or not any(ch.isdigit() for ch in code):
        raise Invalid("invalid", _("Some fields are not valid."), fields={
            "dossier_code": _("must be 4 to 64 letters, digits or . - _ /, with at least "
                              "one digit (e.g. 000.00.20.H26-220101-0001)")})
    return code


def _ring() -> tuple[ReceiptKey, ...]:
    return receipt_keys(current_app.config)


def dossier_hash(code: str, key: ReceiptKey | None = None) -> str:
    """HMAC-SHA256 of a normalised dossier code (hex) under a receipt key (default: the
    newest of the ring)."""
    material = hmac.new((key or _ring()[0]).secret, b"sipas.dossier-hash",
                        hashlib.sha256).digest()
    return hmac.new(material, code.encode("utf-8"), hashlib.sha256).hexdigest()


def _signer(key: ReceiptKey) -> Signer:
    return Signer(key.secret, salt=TOKEN_SALT)


def token_for(receipt: Receipt, key: ReceiptKey | None = None) -> str:
    """The receipt's token signed under ``key`` (default: the newest of the ring)."""
    return _signer(key or _ring()[0]).sign(receipt.token_id).decode("ascii")


def _receipt_of(office: Office, hashes: dict[str, ReceiptKey]) -> Receipt | None:
    return db.session.scalar(sa.select(Receipt).where(
        Receipt.office_id == office.id, Receipt.dossier_hash.in_(hashes))
        .order_by(Receipt.id).limit(1))


@dataclass
class Minted:
    receipt: Receipt
    token: str
    created: bool


def mint_receipt(office: Office, dossier_code: Any, procedure: Any = None,
                 api_key: OfficeApiKey | None = None) -> Minted:
    """The link of a dossier, created on first call and the same on every later call
    (also when two calls race, and after the receipt keys were rotated: a dossier minted
    under an older key gets its link back, signed as it was printed). Commits. Not audited
    one by one (tens of thousands a day); the key that minted a link stays on the receipt.
    Raises Invalid for a bad dossier code or procedure, NotAllowed for an inactive office or
    a key of another office."""
    if api_key is not None and api_key.office_id != office.id:
        raise NotAllowed("wrong_office", _("This API key belongs to another office."))
    ensure_collecting(office)
    code = normalize_dossier_code(dossier_code)
    proc, problem = clean_text(procedure, limits().procedure)
    if problem:
        raise ValidationFailed({"procedure": problem}, _("Some fields are not valid."))
    hashes = {dossier_hash(code, key): key for key in _ring()}  # newest key first
    receipt = _receipt_of(office, hashes)
    new_id = None
    if receipt is None:
        now = utcnow()
        values = dict(office_id=office.id, dossier_hash=next(iter(hashes)),
                      token_id=secrets.token_urlsafe(12),
                      api_key_id=api_key.id if api_key else None, procedure=proc,
                      created_at=now, expires_at=now + timedelta(days=int(current_app.config[
                          "RECEIPT_VALIDITY_DAYS"])))
        stmt = (upsert(db.session, Receipt).values(**values)
                .on_conflict_do_nothing(index_elements=["office_id", "dossier_hash"])
                .returning(Receipt.id))
        with transaction():
            new_id = db.session.execute(stmt).scalar()
        # as stored (not added to the session), or the one a racing call stored first
        receipt = Receipt(id=new_id, **values) if new_id is not None else _receipt_of(
            office, hashes)
        assert receipt is not None
    return Minted(receipt, token_for(receipt, hashes[receipt.dossier_hash]), new_id is not None)


# -- verifying and using ------------------------------------------------------------------

def _unknown() -> DomainError:
    return NotFound("unknown_token", _("This survey link is not valid. Please check that the "
                                       "whole QR code was scanned."))


def _token_id(token: str) -> str | None:
    """The token id of a token signed under any key of the ring, else None."""
    for key in _ring():
        try:
            return _signer(key).unsign(token or "").decode("ascii")
        except (BadSignature, UnicodeDecodeError):
            continue
    return None


def find_receipt(token: str) -> Receipt:
    """The receipt of a token whose signature is valid under a key of the ring and which
    was minted here, whatever its state. Raises NotFound otherwise."""
    token_id = _token_id(token)
    if token_id is None:
        raise _unknown()
    receipt = db.session.scalar(sa.select(Receipt).where(Receipt.token_id == token_id))
    if receipt is None:
        raise _unknown()
    return receipt


def is_used(receipt: Receipt) -> bool:
    return db.session.get(ReceiptUse, receipt.id) is not None


def already_answered() -> DomainError:
    return Conflict("already_answered",
                    _("This dossier has already been rated. Thank you."))


def verify_token(token: str) -> Receipt:
    """The receipt a citizen may answer now. Raises NotFound for a forged, altered or unknown
    token; Conflict when already answered; NotAllowed when the links of its key were withdrawn
    (revoking a key alone stops minting only) or the office is not collecting; Gone when expired."""
    receipt = find_receipt(token)
    if is_used(receipt):
        raise already_answered()
    if receipt.api_key is not None and receipt.api_key.links_withdrawn:
        raise NotAllowed("key_revoked", _("This survey link was withdrawn by the office. "
                                        "Please ask the office for a new receipt."))
    ensure_collecting(receipt.office)
    if receipt.expires_at <= utcnow():
        raise Gone("expired", _("This survey link has expired (it was valid for "
                                    "%(days)s days).", days=(receipt.expires_at
                                                             - receipt.created_at).days))
    return receipt


class ReceiptDoor:
    """The receipt (QR) channel of :func:`core.services.intake.submit`: the token must be
    one this server minted and may be answered now; the receipt is marked used in the same
    transaction as the pending answer (the ``receipt_use`` primary key refuses a second use,
    also when two submissions race: Conflict ``already_answered``). Nothing of the receipt
    (dossier, procedure, times) goes into the answer."""

    channel = "qr"
    require_id = False

    def __init__(self, token: str) -> None:
        self.token = token
        self.receipt: Receipt | None = None

    def admit(self) -> Office:
        self.receipt = verify_token(self.token)
        return self.receipt.office

    def store(self, submission: Submission, office: Office) -> Stored:
        receipt = self.receipt
        assert receipt is not None
        try:
            db.session.add(ReceiptUse(receipt_id=receipt.id))
            db.session.flush()
        except IntegrityError as exc:
            raise already_answered() from exc
        hold(submission.response, office.id, "qr", vn_day(utcnow()))
        return Stored(None, True)


# -- the generic office link --------------------------------------------------------------

def _form_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=FORM_SALT)


def generic_office(office_code: str) -> Office:
    """An office whose generic link is open. Raises NotFound (unknown) or NotAllowed (inactive)."""
    office = get_office(office_code)
    ensure_collecting(office)
    return office


def issue_form_token(office: Office) -> str:
    """A signed one-time token for one generic-link form of ``office``."""
    return _form_serializer().dumps({"o": office.id, "n": secrets.token_urlsafe(12)})


class FormExpired(Gone):
    """A generic-link form was open longer than ``GENERIC_FORM_MAX_AGE``: the page shows
    the form again, answers kept, with a fresh token."""

    def __init__(self) -> None:
        super().__init__("form_expired", _("The page was open for a long time. Your answers "
                                           "are kept: please check them and press “Send my "
                                           "rating” again."))


def check_form_token(office: Office, token: str) -> str:
    """The nonce of a valid, unexpired form token of ``office``. Raises FormExpired when
    too old and Invalid (``bad_form_token``) when forged or for another office."""
    max_age = int(current_app.config["GENERIC_FORM_MAX_AGE"])
    try:
        data = _form_serializer().loads(token or "", max_age=max_age)
    except SignatureExpired as exc:
        raise FormExpired() from exc
    except BadSignature:
        data = None
    if not isinstance(data, dict) or data.get("o") != office.id or not isinstance(
            data.get("n"), str):
        raise Invalid("bad_form_token", _("The form could not be checked. Please reload "
                                          "the page."))
    return data["n"]


class GenericDoor:
    """The generic-link channel of :func:`core.services.intake.submit`: a signed one-time
    form token of this office (burnt in the same transaction as the response: Conflict
    ``form_used`` the second time) and a per-client limit (``GENERIC_RATE_LIMIT``).
    ``admit`` raises FormExpired for a form left open too long."""

    channel = "generic"
    require_id = False

    def __init__(self, office_code: str, form_token: str, client: str) -> None:
        self.office_code = office_code
        self.form_token = form_token
        self.client = client
        self.nonce = ""
        self.office: Office | None = None

    def admit(self) -> Office:
        office = generic_office(self.office_code)
        self.nonce = check_form_token(office, self.form_token)
        self.office = office
        return office

    def store(self, submission: Submission, office: Office) -> Stored:
        limit = current_app.config["GENERIC_RATE_LIMIT"]
        if not limiter().hit("survey.generic", f"{office.id}:{self.client}", limit):
            raise RateLimited("rate_limited", _("Many answers were sent from this device "
                                                "recently. Please try again later."),
                              retry_after=limiter().window_seconds(limit))
        max_age = int(current_app.config["GENERIC_FORM_MAX_AGE"])
        expires_on: date = (utcnow() + timedelta(seconds=max_age, days=1)).date()
        try:
            db.session.add(GenericFormUse(nonce=self.nonce, expires_on=expires_on))
            db.session.flush()
        except IntegrityError as exc:
            raise Conflict("form_used",
                           _("This form has already been sent. Thank you.")) from exc
        hold(submission.response, office.id, "generic", vn_day(utcnow()))
        return Stored(None, True)


def purge_form_uses(today: date | None = None) -> int:
    """Delete used form tokens that can no longer be replayed; commits; returns the count."""
    today = today or utcnow().date()
    with transaction():
        result = db.session.execute(sa.delete(GenericFormUse).where(
            GenericFormUse.expires_on < today))
    return result.rowcount or 0
