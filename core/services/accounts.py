"""Users, sign-in and personal API tokens.

Passwords are hashed with werkzeug's scrypt. Sign-in is throttled per account and per client
(``core.ratelimit``); an unknown username costs the same hash work as a wrong password.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from limits import parse
from werkzeug.security import check_password_hash, generate_password_hash

from core.errors import Conflict, DomainError, Invalid, NotFound, RateLimited, Unauthenticated
from core.extensions import db
from core.models import ROLES, ApiToken, User
from core.ratelimit import limiter
from core.services.audit import record
from core.services.offices import get_office
from core.services.tx import transaction
from core.timeutil import utcnow

MIN_PASSWORD = 10
TOKEN_PREFIX = "sipas_"  # noqa: S105 - a public prefix, not a secret
_dummy_hashes: dict[str, str] = {}


def _hash(password: str) -> str:
    """werkzeug scrypt (PASSWORD_HASH_METHOD, e.g. "scrypt" or "scrypt:32768:8:1")."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _dummy_hash() -> str:
    """A hash to check against when the user does not exist (same cost as a real one)."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash("not-a-real-password", method=method)
    return _dummy_hashes[method]


class TooManyAttempts(RateLimited):
    def __init__(self) -> None:
        super().__init__("rate_limited", _("Too many sign-in attempts. Please wait a few "
                                           "minutes and try again."), retry_after=60)


def _new_nonce() -> str:
    return secrets.token_hex(8)


def check_password_strength(password: str, username: str = "") -> str | None:
    """A message when the password is too weak, else None."""
    if len(password) < MIN_PASSWORD:
        return _("The password must have at least %(n)s characters.", n=MIN_PASSWORD)
    if username and username.lower() in password.lower():
        return _("The password must not contain the user name.")
    return None


def temporary_password() -> str:
    return secrets.token_urlsafe(12)


def get_user(username: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.username == username.strip().lower()))


def load_user(user_id: str) -> User | None:
    """Flask-Login loader: ``"<id>:<nonce>"``; a changed nonce ends old sessions."""
    uid, _sep, nonce = user_id.partition(":")
    if not uid.isdigit():
        return None
    user = db.session.get(User, int(uid))
    if user is None or not user.active or not secrets.compare_digest(user.session_nonce, nonce):
        return None
    return user


def create_user(username: str, role: str, office_code: str | None, password: str | None, *,
                actor: str, must_change: bool = True) -> tuple[User, str]:
    """Create a user (committed). Without ``password`` a temporary one is generated.
    Returns (user, password). Raises DomainError for a taken name, unknown role or office,
    a head/viewer without office, or a weak password."""
    name = username.strip().lower()
    fields: dict[str, str] = {}
    if not name or len(name) > 64 or not all(ch.isalnum() or ch in "._-@" for ch in name):
        fields["username"] = _("Use 1-64 letters, digits, '.', '_', '-' or '@'.")
    elif get_user(name) is not None:
        fields["username"] = _("This user name is already taken.")
    if role not in ROLES:
        fields["role"] = _("The role must be admin, head or viewer.")
    office = None
    if office_code:
        try:
            office = get_office(office_code)
        except DomainError as exc:
            fields["office"] = exc.message
    elif role in ("head", "viewer"):
        fields["office"] = _("An office head or viewer needs an office.")
    if password is None:
        password = temporary_password()
    elif (problem := check_password_strength(password, name)):
        fields["password"] = problem
    if fields:
        raise Invalid("invalid", _("The user could not be created."), fields)
    user = User(username=name, role=role, office_id=office.id if office else None,
                password_hash=_hash(password),
                must_change_password=must_change, active=True, session_nonce=_new_nonce())
    with transaction() as session:
        session.add(user)
        session.flush()
        record("user.create", actor=actor, office_id=user.office_id, target=f"user:{name}",
               role=role)
    return user, password


def list_users() -> list[User]:
    return list(db.session.scalars(sa.select(User).order_by(User.username)))


def set_active(user: User, active: bool, *, actor: str) -> None:
    """Disable (or enable) an account; disabling ends its sessions and tokens stop working."""
    with transaction():
        user.active = active
        user.session_nonce = _new_nonce()
        record("user.disable" if not active else "user.enable", actor=actor,
               office_id=user.office_id, target=f"user:{user.username}")


def _throttle_keys(username: str, client: str) -> list[tuple[str, str, str]]:
    cfg = current_app.config
    return [("signin-account", username, cfg["SIGNIN_LIMIT_ACCOUNT"]),
            ("signin-client", client, cfg["SIGNIN_LIMIT_CLIENT"])]


def authenticate(username: str, password: str, client: str) -> User:
    """The active user with these credentials; records sign-in and failure in the audit log.

    Raises TooManyAttempts (429) when the account or the client made too many failed
    attempts recently, Invalid(401) for wrong credentials (same message whether the user
    exists or not)."""
    name = username.strip().lower()[:64]
    rl = limiter()
    keys = _throttle_keys(name, client)
    if not all(rl.strategy.test(parse(limit), ns, key) for ns, key, limit in keys):
        with transaction():
            record("signin.throttled", actor=name or "-", client=client)
        raise TooManyAttempts()
    user = get_user(name) if name else None
    ok = check_password_hash(user.password_hash if user else _dummy_hash(), password)
    if not ok or user is None or not user.active:
        for ns, key, limit in keys:
            rl.hit(ns, key, limit)
        with transaction():
            record("signin.failed", actor=name or "-", client=client)
        raise Unauthenticated("bad_credentials", _("The user name or password is not correct."))
    ns, key, limit = keys[0]
    rl.clear(ns, key, limit)
    with transaction():
        user.last_sign_in_at = utcnow()
        record("signin", actor=user.username, office_id=user.office_id, client=client)
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Raises DomainError with field messages for a wrong current or weak new password."""
    if not check_password_hash(user.password_hash, current):
        raise Invalid("invalid", _("The password was not changed."),
                       {"current": _("The current password is not correct.")})
    if (problem := check_password_strength(new, user.username)):
        raise Invalid("invalid", _("The password was not changed."), {"new": problem})
    if check_password_hash(user.password_hash, new):
        raise Invalid("invalid", _("The password was not changed."),
                       {"new": _("Choose a password different from the current one.")})
    password_hash = _hash(new)
    with transaction():
        user.password_hash = password_hash
        user.must_change_password = False
        user.session_nonce = _new_nonce()
        record("user.password", actor=user.username, office_id=user.office_id,
               target=f"user:{user.username}")


def reset_password(user: User, *, actor: str) -> str:
    """A new temporary password (must be changed at next sign-in)."""
    password = temporary_password()
    password_hash = _hash(password)
    with transaction():
        user.password_hash = password_hash
        user.must_change_password = True
        user.session_nonce = _new_nonce()
        record("user.reset_password", actor=actor, office_id=user.office_id,
               target=f"user:{user.username}")
    return password


# --- personal API tokens ---------------------------------------------------------------

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass
class NewToken:
    token: ApiToken
    secret: str


def create_token(user: User, label: str | None, *, actor: str) -> NewToken:
    """A new token for ``user``; the secret is returned once and only its digest is kept."""
    if not user.active:
        raise Conflict("user_inactive", _("This account is disabled."))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, prefix=secret[:12], digest=_digest(secret),
                     label=(label or "").strip()[:100] or None)
    with transaction() as session:
        session.add(token)
        session.flush()
        record("token.create", actor=actor, office_id=user.office_id,
               target=f"token:{token.id}", user=user.username)
    return NewToken(token, secret)


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.id)))


def revoke_token(token_id: int, *, actor: User | None, actor_name: str) -> ApiToken:
    """Revoke a token. A non-admin ``actor`` may only revoke their own (else 404)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or (actor is not None and actor.role != "admin"
                         and token.user_id != actor.id):
        raise NotFound("not_found", _("There is no such token."))
    if token.revoked_at is None:
        with transaction():
            token.revoked_at = utcnow()
            record("token.revoke", actor=actor_name, office_id=token.user.office_id,
                   target=f"token:{token.id}", user=token.user.username)
    return token


def user_for_token(secret: str) -> User | None:
    """The active user owning this unrevoked token, else None (stamps last use)."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.digest == _digest(secret)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    with transaction():
        token.last_used_at = utcnow()
    return token.user
