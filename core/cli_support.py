"""What every ``flask`` command of every area shares: how a failure is reported.

A command that cannot do what it was asked prints one translated line on standard error
(``Lỗi: …`` in Vietnamese, the default locale outside a request) and exits with status 1.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import click
from flask_babel import gettext as _

from core.errors import DomainError
from core.services.offices import ImportFailed


def fail(message: str) -> NoReturn:
    """Print ``Error: <message>`` (translated) on standard error and exit with status 1."""
    click.echo(_("Error: %(message)s", message=message), err=True)
    sys.exit(1)


def fail_import(exc: ImportFailed) -> NoReturn:
    """Report an all-or-nothing import that stored nothing: each problem listed (up to the
    service's limit, then how many more), then :func:`fail`."""
    for err in exc.errors:
        click.echo(str(err), err=True)
    more = exc.total - len(exc.errors)
    if more > 0:
        click.echo(_("... and %(n)s more problem(s) not listed", n=more), err=True)
    fail(_("%(n)s problem(s) found; nothing was stored.", n=exc.total))


def public_base_url(explicit: str | None = None) -> str:
    """The address printed links start with: ``explicit`` (a ``--base-url``), else
    ``PUBLIC_BASE_URL``, else (development) the address ``make run`` / ``flask run`` serves
    the app on: ``http://127.0.0.1:$PORT`` (PORT defaults to 5000)."""
    import os

    from flask import current_app

    base = explicit or current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        port = os.environ.get("PORT") or "5000"
        base = f"http://127.0.0.1:{port if port.isdigit() else '5000'}"
    return base.rstrip("/")


def fail_domain(exc: DomainError, prefix: str = "") -> NoReturn:
    """:func:`fail` with a domain error's message and each field's problem."""
    details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
    fail(prefix + exc.message + (f" ({details})" if details else ""))
