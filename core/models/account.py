"""Accounts of office heads, city staff and programs: users and personal API tokens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, UTCDateTime, utcnow
from core.models.office import Office

#: admin = city administrator (everything); head = office head (their office and below,
#: handles comments there); viewer = reads their scope.
ROLES = ("admin", "head", "viewer")


class User(Base):
    """A person who signs in to the results area. Passwords are stored as werkzeug scrypt
    hashes; ``session_nonce`` changes with the password so other sessions end."""

    __tablename__ = "app_user"
    __table_args__ = (sa.CheckConstraint(f"role IN {ROLES!r}", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    office_id: Mapped[int | None] = mapped_column(sa.ForeignKey("office.id"), index=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    must_change_password: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    session_nonce: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    office: Mapped[Office | None] = relationship()

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class ApiToken(Base):
    """A personal API token: shown once, stored as a SHA-256 digest, revocable."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id"), index=True)
    #: first characters of the token, to recognise it in lists (not secret on their own)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    label: Mapped[str | None] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()


class UserSession(Base):
    """A signed-in browser. The session cookie carries a random id; this row keeps only its
    SHA-256 digest. Signing out deletes the row, so a copy of the cookie opens nothing
    afterwards; a password change, a reset or disabling the account deletes every row of
    the user."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("app_user.id"), index=True)
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


#: what a sign-in throttle row counts (see core/services/signin_throttle.py)
THROTTLE_KINDS = ("client", "account_client", "account", "refused")


class SignInThrottle(Base):
    """Sign-in attempts counted in a fixed window, one row per key: per client address, per
    account and client, per account (the backstop), and the throttled attempts of a client
    (with the audit event that summarises them). Counted with one atomic upsert, so that
    parallel requests and several processes share one count."""

    __tablename__ = "signin_throttle"
    __table_args__ = (sa.CheckConstraint(f"kind IN {THROTTLE_KINDS!r}", name="kind"),)

    key: Mapped[str] = mapped_column(sa.String(160), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    account: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    client: Mapped[str | None] = mapped_column(sa.String(64))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    audit_event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("audit_event.id"))
