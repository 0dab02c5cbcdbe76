"""Follow-up codes: how a citizen who left a comment learns what became of it.

After a comment (kept with the answer, i.e. not a contact request) the thank-you screen gives
the citizen a code of 10 characters from a 32-symbol alphabet without look-alike characters
(Crockford's base 32: no I, L, O or U), 50 random bits, shown in two groups of five
(``7KQ2M-XR4TD``) and, on the kiosk, as a QR code of ``/phan-hoi/<code>``.

Where it is made: the kiosk makes it itself (``kiosk/static/kiosk/followup.js``, also offline)
and sends only its SHA-256 with the answer; the phone's page and the kiosk's no-JavaScript
form have it made by the server in the request that sends the answer (:func:`new_code`), which
keeps only the hash and shows the code once. Either way the hash rides with the answer
through the one door: the pending row carries it (nothing else), and the nightly release
(:mod:`core.services.mixing`) copies it to the comment's handling record of the *released*
answer. So the hash is stored with nothing the pending row does not already hold: no receipt,
dossier, kiosk, counter, or time finer than the day. The code itself is never stored or
logged (``/phan-hoi/<token>`` is a redacted route, see :mod:`core.logs`).

Administrators have no lookup by code: the only reader is :func:`lookup`, behind the public
page, which shows the status and, once the head publishes it, the office's reply, never the
comment's text.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from core.errors import Invalid, NotFound
from core.extensions import db
from core.models import CommentHandling, Office, Response

#: Crockford's base 32: digits and capitals without I, L, O and U
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 10  # 50 bits
#: what a citizen may type for a symbol that is not in the alphabet
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-.]+")
_HASH = re.compile(r"^[0-9a-f]{64}$")


def new_code() -> str:
    """A new random code (10 symbols, 50 bits, from the system's cryptographic generator)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def grouped(code: str) -> str:
    """``7KQ2MXR4TD`` -> ``7KQ2M-XR4TD`` (read aloud in two groups)."""
    return f"{code[:5]}-{code[5:]}"


def normalize(text: Any) -> str | None:
    """The code a citizen typed or scanned (any case, spaces or hyphens, O for 0, I or L for
    1), or None when it cannot be a code."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    code = _SEPARATORS.sub("", text).upper().translate(_LOOK_ALIKES)
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def code_hash(code: str) -> str:
    """SHA-256 (hex) of a normalised code: what is stored."""
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def offer(raw: Any) -> str | None:
    """For a channel without a script of its own (the phone's page, the kiosk's form without
    JavaScript): a new code for a submission (intake ``RawSubmission``) that will keep a
    comment on its answer (a comment, and no contact given), its hash set on ``raw``. The
    caller shows the code once, after the answer is stored. None when no code is due."""
    comment = raw.comment if isinstance(raw.comment, str) else ""
    contact = raw.contact if isinstance(raw.contact, str) else ""
    if not comment.strip() or contact.strip():
        return None
    code = new_code()
    raw.followup_hash = code_hash(code)
    return code


#: the key of the session cookie carrying a code from the answer's POST to the thank-you page
SESSION_KEY = "followup_code"


def check_hash(value: Any, errors: dict[str, str]) -> str | None:
    """An optional ``followup_hash`` of a submission (64 lowercase hex digits)."""
    if value is None:
        return None
    if not isinstance(value, str) or not _HASH.match(value):
        errors["followup_hash"] = _("must be the SHA-256 of a follow-up code, in hexadecimal")
        return None
    return value


@dataclass(frozen=True)
class FollowUp:
    """What the public page shows for a code: never the comment's text."""

    office_name: str
    office_code: str
    status: str
    reply: str | None  # only once the head has made it public


def lookup(text: Any) -> FollowUp:
    """The handling of the comment a code was given for. Raises NotFound for a malformed or
    unknown code (and for a comment withdrawn since)."""
    code = normalize(text)
    if code is None:
        raise NotFound("not_found", _("There is no comment with this code."))
    row = db.session.execute(
        sa.select(CommentHandling, Office.name, Office.code)
        .join(Response, Response.id == CommentHandling.response_id)
        .join(Office, Office.id == Response.office_id)
        .where(CommentHandling.followup_hash == code_hash(code),
               Response.comment.is_not(None))
        .limit(1)).first()
    if row is None:
        raise NotFound("not_found", _("There is no comment with this code."))
    handling, name, office_code = row
    reply = handling.public_reply if handling.reply_public else None
    return FollowUp(name, office_code, handling.status, reply)


def invalid_code() -> Invalid:
    return Invalid("invalid", _("Please check the code: it has 10 letters and digits."),
                   {"code": _("must be 10 letters and digits, e.g. 7KQ2M-XR4TD")})
