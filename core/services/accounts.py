"""Users, sign-in and personal API tokens.

Passwords are hashed with werkzeug's scrypt. Sign-in is throttled per client, per account and
client, and per account (``core.services.signin_throttle``); an unknown username costs the
same hash work as a wrong password. An administrator's password reset or disabling of an
account ends its sessions (``core.services.sessions``) and revokes its API tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from core.errors import Conflict, DomainError, Invalid, NotFound, Unauthenticated
from core.extensions import db
from core.models import ROLES, ApiToken, User
from core.services import signin_throttle
from core.services.audit import record
from core.services.offices import get_office
from core.services.scope import can, visible_office_ids
from core.services.sessions import end_all_sessions
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
    """Disable (or enable) an account. Disabling ends its sessions and revokes its API
    tokens for good (enabling it again does not bring them back)."""
    with transaction():
        user.active = active
        user.session_nonce = _new_nonce()
        details = {}
        if not active:
            end_all_sessions(user)
            details["tokens_revoked"] = _revoke_all_tokens(user)
        record("user.disable" if not active else "user.enable", actor=actor,
               office_id=user.office_id, target=f"user:{user.username}", **details)


def unlock(user: User, *, actor: str) -> None:
    """Let ``user`` sign in again from every address: forget the failed attempts that
    throttle the account (committed, audited)."""
    signin_throttle.unlock(user.username, actor=actor, office_id=user.office_id)


def delete_user(user: User, *, actor: str) -> None:
    """Delete an account with its sessions and API tokens (committed, audited)."""
    with transaction() as session:
        end_all_sessions(user)
        session.execute(sa.delete(ApiToken).where(ApiToken.user_id == user.id))
        record("user.delete", actor=actor, office_id=user.office_id,
               target=f"user:{user.username}")
        session.delete(user)


def authenticate(username: str, password: str, client: str) -> User:
    """The active user with these credentials; records sign-in and failure in the audit log.

    Raises TooManyAttempts (429) when this address, this address on this account, or the
    account as a whole made too many attempts recently (the attempt is counted before the
    password is checked, see :mod:`core.services.signin_throttle`), Unauthenticated (401)
    for wrong credentials (same message whether the user exists or not)."""
    name = username.strip().lower()[:64]
    signin_throttle.admit(name, client)
    user = get_user(name) if name else None
    ok = check_password_hash(user.password_hash if user else _dummy_hash(), password)
    if not ok or user is None or not user.active:
        with transaction():
            record("signin.failed", actor=name or "-", client=client)
        raise Unauthenticated("bad_credentials", _("The user name or password is not correct."))
    signin_throttle.succeeded(name, client)
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
        end_all_sessions(user)  # the caller starts a new one for the browser that changed it
        record("user.password", actor=user.username, office_id=user.office_id,
               target=f"user:{user.username}")


def reset_password(user: User, *, actor: str) -> str:
    """A new temporary password (must be changed at next sign-in). The account may be in
    other hands: its sessions end and its API tokens are revoked."""
    password = temporary_password()
    password_hash = _hash(password)
    with transaction():
        user.password_hash = password_hash
        user.must_change_password = True
        user.session_nonce = _new_nonce()
        end_all_sessions(user)
        revoked = _revoke_all_tokens(user)
        record("user.reset_password", actor=actor, office_id=user.office_id,
               target=f"user:{user.username}", tokens_revoked=revoked)
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


def _revoke_all_tokens(user: User) -> int:
    """Revoke every live token of ``user`` in the caller's transaction; returns how many."""
    return db.session.execute(sa.update(ApiToken)
                              .where(ApiToken.user_id == user.id,
                                     ApiToken.revoked_at.is_(None))
                              .values(revoked_at=utcnow())).rowcount


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.id)))


def list_tokens(actor: User | None = None, username: str | None = None) -> list[ApiToken]:
    """Tokens of every account ``actor`` manages (every token for the command line, where
    ``actor`` is None; none for a user who does not manage accounts), optionally of one
    user only, oldest first."""
    query = sa.select(ApiToken).join(User).order_by(ApiToken.id)
    if actor is not None:
        if not can(actor, "manage_users"):
            return []
        ids = visible_office_ids(actor)
        if ids is not None:
            query = query.where(User.office_id.in_(ids))
    if username is not None:
        query = query.where(User.username == username.strip().lower())
    return list(db.session.scalars(query))


def _may_revoke(actor: User, token: ApiToken) -> bool:
    if token.user_id == actor.id:
        return True
    if not can(actor, "manage_users"):
        return False
    ids = visible_office_ids(actor)
    return ids is None or token.user.office_id in ids


def revoke_token(token_id: int, *, actor: User | None, actor_name: str) -> ApiToken:
    """Revoke a token: one's own, or any token of an account the ``actor`` manages (every
    token when ``actor`` is None: the command line). Raises NotFound for any other."""
    token = db.session.get(ApiToken, token_id)
    if token is None or (actor is not None and not _may_revoke(actor, token)):
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
