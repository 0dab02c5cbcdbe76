"""Flask commands for analysts and the IT team. Each exits non-zero on error."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _

from core.cli_support import fail, fail_import
from core.errors import DomainError
from core.services.common import get_instrument, registry
from core.services.offices import ImportFailed, get_office, import_offices

offices_cli = AppGroup("offices", help="Manage the office tree.")
responses_cli = AppGroup("responses", help="Import and release responses.")
tallies_cli = AppGroup("tallies", help="Monthly tallies.")
retention_cli = AppGroup("retention", help="Retention of personal data (comments, contact "
                         "requests, the audit log).")


@offices_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def offices_import(file: Path) -> None:
    """Create or update offices from a CSV file: code,name,parent_code,level."""
    try:
        with file.open(newline="", encoding="utf-8-sig") as stream:
            result = import_offices(stream)
    except ImportFailed as exc:
        fail_import(exc)
    except UnicodeDecodeError:
        fail(_("%(file)s is not UTF-8 text.", file=file))
    click.echo(_("%(created)s created, %(updated)s updated, %(unchanged)s unchanged.",
                 created=result.created, updated=result.updated, unchanged=result.unchanged))


@responses_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--instrument", "instrument_id", default=None,
              help="Instrument the answers belong to (default: the configured one).")
def responses_import(file: Path, instrument_id: str | None) -> None:
    """Import paper-survey responses from a CSV file, all or nothing.

    Columns: office_code,submitted_at, then one per criterion (I.1 ... V.4) with 1-5 or
    empty for no answer; optional channel, comment, id.
    """
    from core.services.imports import import_responses

    iid = instrument_id or current_app.config["DEFAULT_INSTRUMENT"]
    if iid not in registry():
        fail(_("unknown instrument %(id)s; known: %(known)s", id=iid,
               known=", ".join(registry().ids())))
    try:
        result = import_responses(file, get_instrument(iid),
                                  progress=lambda n: click.echo(_("... %(n)s rows", n=n),
                                                                err=True))
    except ImportFailed as exc:
        fail_import(exc)
    click.echo(_("%(rows)s rows read, %(stored)s responses stored, %(old)s already imported "
                 "before.", rows=result.rows, stored=result.stored, old=result.already_imported))


@responses_cli.command("mix")
@click.option("--include-today", is_flag=True,
              help="Also release the current day (Vietnam time), as if it were closed.")
@click.option("--min-batch", type=click.IntRange(1), default=None,
              help="Release an office-day from this many answers (default: MIX_MIN_BATCH).")
def responses_mix(include_today: bool, min_batch: int | None) -> None:
    """Release pending answers of closed office-days into the figures, mixed (for cron).

    Each office-day with at least the minimum number of answers is stored in a random order
    with times coarsened to the day; smaller days wait for the office's next day; a month's
    remainder is released with its last day. Safe to run concurrently and repeatedly.
    """
    from core.services.mixing import mix

    result = mix(include_today=include_today, min_batch=min_batch)
    click.echo(_("%(released)s answer(s) released in %(batches)s office-day batch(es); "
                 "%(pending)s still pending.", released=result.released,
                 batches=result.batches, pending=result.pending))


@tallies_cli.command("rebuild")
def tallies_rebuild() -> None:
    """Recompute the monthly tallies from the raw responses."""
    from core.extensions import db
    from core.services.tallies import rebuild_tallies

    changed = rebuild_tallies(db.session)
    click.echo(_("Tallies rebuilt; %(n)s tally row(s) differed from the stored ones.", n=changed))


@retention_cli.command("apply")
def retention_apply() -> None:
    """Remove the personal data whose retention period is over (for cron, e.g. nightly):
    comment texts, contact requests, audit events. Answers and figures stay. Safe to run
    repeatedly."""
    from core.services import retention

    try:
        removed = retention.apply(actor="cli")
    except DomainError as exc:
        fail(exc.message)
    click.echo(_("Removed %(comments)s comment text(s), %(requests)s contact request(s) and "
                 "%(events)s audit event(s).", comments=removed.comments,
                 requests=removed.contact_requests, events=removed.audit_events))


@retention_cli.command("status")
def retention_status() -> None:
    """What personal data is kept, its retention period and how much is due now:
    tab-separated columns kind, setting, days, kept, oldest, due after a header line."""
    from core.services import retention

    try:
        rows = retention.status()
    except DomainError as exc:
        fail(exc.message)
    click.echo("kind\tsetting\tdays\tkept\toldest\tdue")
    for row in rows:
        click.echo(f"{row.kind}\tSIPAS_{row.setting}\t"
                   f"{row.days if row.days is not None else '-'}\t{row.kept}\t"
                   f"{row.oldest.isoformat() if row.oldest else '-'}\t{row.due}")


@click.command("report")
@with_appcontext
@click.argument("office_code")
@click.argument("month")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "pdf"]), default="json",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
@click.option("--instrument", "instrument_id", default=None)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--include-partial", is_flag=True,
              help="Include partial responses (kiosk walk-aways) in the figures.")
def report(office_code: str, month: str, fmt: str, output: Path | None,
           instrument_id: str | None, lang: str, include_partial: bool) -> None:
    """Monthly SIPAS figures for OFFICE_CODE and everything below it, month YYYY-MM."""
    from core.services.pdf_report import monthly_report_pdf
    from core.services.reports import monthly_report, report_csv

    if fmt == "pdf" and output is None:
        fail("--format pdf needs -o FILE.")
    with force_locale(lang):
        try:
            office = get_office(office_code)
            data = monthly_report(office, month, instrument_id, locale=lang,
                                  include_partial=include_partial)
        except DomainError as exc:
            fail(exc.message)
        if fmt == "pdf":
            assert output is not None
            output.write_bytes(monthly_report_pdf(office, data, lang))
            return
        text = (json.dumps(data, ensure_ascii=False, indent=2) if fmt == "json"
                else report_csv(data))
    if output:
        output.write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
    else:
        click.echo(text)


@click.command("demo-data")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing when offices already exist.")
@click.option("--months", default=12, show_default=True, type=click.IntRange(1, 60))
@click.option("--seed", default=2022, show_default=True, type=int)
def demo_data(if_empty: bool, months: int, seed: int) -> None:
    """Load demo offices, a year of plausible responses and demo sign-ins (never in
    production)."""
    from core.services.demo import (
        DEMO_PASSWORD,
        database_is_empty,
        load_demo,
        load_demo_extras,
    )

    if current_app.config["ENV"] == "production":
        fail(_("demo data is never loaded in production (SIPAS_ENV=production)."))
    if if_empty and not database_is_empty():
        click.echo(_("The database already has offices; demo data not loaded."))
        return
    instrument = get_instrument(current_app.config["DEFAULT_INSTRUMENT"])
    n = load_demo(instrument, months, seed)
    click.echo(_("Demo data loaded: %(n)s responses.", n=n))
    for username, role in load_demo_extras(instrument):
        click.echo(_("Demo sign-in at /admin/: %(user)s / %(password)s (%(role)s)",
                     user=username, password=DEMO_PASSWORD, role=role))


def init_app(app: Flask) -> None:
    from core.backup import backup_command

    for command in (offices_cli, responses_cli, tallies_cli, retention_cli, report, demo_data,
                    backup_command):
        app.cli.add_command(command)
