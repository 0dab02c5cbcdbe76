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
    (field key -> message, for bad input). A subclass names its default code:
    ``class Gone(DomainError, code="gone")``."""

    default_code = "error"

    def __init_subclass__(cls, code: str | None = None, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if code:
            cls.default_code = code

    def __init__(self, code: str | None = None, message: str = "",
                 fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code or self.default_code
        self.message = str(message)
        self.fields = fields or {}


class Invalid(DomainError, code="invalid"):
    """Input that cannot be accepted; ``fields`` names every bad field."""


class Unauthenticated(DomainError, code="unauthorized"):
    """No valid credential, key or sign-in was presented."""


class NotAllowed(DomainError, code="forbidden"):
    """The caller is known but may not do this (scope, inactive office, another office's
    key, a withdrawn link)."""


class NotFound(DomainError, code="not_found"):
    """The thing asked for does not exist (or is not visible to the caller)."""


class Conflict(DomainError, code="conflict"):
    """It was done already (a receipt answered, a form sent) or clashes with the state."""


class Gone(DomainError, code="gone"):
    """It existed but can no longer be used (an expired link or activation code)."""


class TooLarge(DomainError, code="too_large"):
    """More data than the operation takes."""


class UnsupportedFormat(DomainError, code="unsupported_media_type"):
    """Data in a format the operation does not read."""


class RateLimited(DomainError, code="rate_limited"):
    """Too many attempts; try again after ``retry_after`` seconds."""

    def __init__(self, code: str | None = None, message: str = "",
                 retry_after: int = 1) -> None:
        super().__init__(code, message)
        self.retry_after = max(1, int(retry_after))
