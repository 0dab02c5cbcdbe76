"""Domain errors: what a service raises when it cannot do what it was asked.

Services speak the domain, never HTTP: an error says *what* went wrong (its class and a
machine-readable ``code``), a human ``message`` and, for bad input, a message per field key
(``answers.I.1``, ``comment``, ...). One mapping in the web layer
(:mod:`core.http_errors`) turns each class into a status code, a page or a JSON body; the
CLI prints the message. Nothing here imports Flask.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base class: ``code`` (stable, for programs), ``message`` (for people), ``fields``
    (field key -> message, for bad input)."""

    default_code = "error"

    def __init__(self, code: str | None = None, message: str = "",
                 fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code or self.default_code
        self.message = str(message)
        self.fields = fields or {}


class Invalid(DomainError):
    """Input that cannot be accepted; ``fields`` names every bad field."""

    default_code = "invalid"


class Unauthenticated(DomainError):
    """No valid credential, key or sign-in was presented."""

    default_code = "unauthorized"


class NotAllowed(DomainError):
    """The caller is known but may not do this (scope, inactive office, another office's
    key, a withdrawn link)."""

    default_code = "forbidden"


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to the caller)."""

    default_code = "not_found"


class Conflict(DomainError):
    """It was done already (a receipt answered, a form sent) or clashes with the state."""

    default_code = "conflict"


class Gone(DomainError):
    """It existed but can no longer be used (an expired link or activation code)."""

    default_code = "gone"


class TooLarge(DomainError):
    default_code = "too_large"


class UnsupportedFormat(DomainError):
    default_code = "unsupported_media_type"


class RateLimited(DomainError):
    """Too many attempts; try again after ``retry_after`` seconds."""

    default_code = "rate_limited"

    def __init__(self, code: str | None = None, message: str = "",
                 retry_after: int = 1) -> None:
        super().__init__(code, message)
        self.retry_after = max(1, int(retry_after))
