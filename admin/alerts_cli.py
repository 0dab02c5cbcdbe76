"""``flask alerts send``: the e-mail alerts heads chose (:mod:`core.services.alerts`)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from core.cli_support import fail
from core.errors import DomainError
from core.services import alerts

alerts_cli = AppGroup("alerts", help="E-mail alerts for office heads.")


@alerts_cli.command("send")
def send() -> None:
    """Send the alerts due now that were not sent before (for cron; safe to repeat)."""
    try:
        report = alerts.send_due()
    except DomainError as exc:
        fail(exc.message)
    except OSError as exc:  # the SMTP server cannot be reached: the next run retries
        fail(f"cannot reach the mail server: {exc}")
    if report is None:
        click.echo("MAIL_URL is not set: nothing sent.")
        return
    click.echo(f"sent {report.sent}, sent before {report.skipped}, failed {report.failed}")
    if report.failed:
        raise SystemExit(1)
