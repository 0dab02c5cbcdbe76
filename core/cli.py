"""Flask commands for analysts and the IT team. Each exits non-zero on error."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _

from core.cli_support import fail, fail_domain, fail_import
from core.errors import DomainError
from core.services.common import get_instrument, registry
from core.services.offices import ImportFailed, get_office

offices_cli = AppGroup("offices", help="Manage the office tree.")
responses_cli = AppGroup("responses", help="Import and release responses.")
tallies_cli = AppGroup("tallies", help="Monthly tallies.")
imports_cli = AppGroup("imports", help="Paper import batches: list them, undo one.")
retention_cli = AppGroup("retention", help="Retention of personal data (comments, contact "
                         "requests, the audit log).")


@offices_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def offices_import(file: Path) -> None:
    """Create or update offices from a CSV file: code,name,parent_code,level (optional:
    active and the report fields). All or nothing; audited; a changed parent is a dated
    move. Codes are matched whatever their letter case."""
    from core.services.office_admin import import_rows

    try:
        with file.open(newline="", encoding="utf-8-sig") as stream:
            result = import_rows(stream, actor="cli")
    except ImportFailed as exc:
        fail_import(exc)
    except UnicodeDecodeError:
        fail(_("%(file)s is not UTF-8 text.", file=file))
    click.echo(_("%(created)s created, %(updated)s updated, %(unchanged)s unchanged.",
                 created=result.created, updated=result.updated, unchanged=result.unchanged))


@offices_cli.command("list")
@click.option("--tree", "as_tree", is_flag=True, help="Indent each office under its parent.")
def offices_list(as_tree: bool) -> None:
    """List offices in tree order: code, name, level, parent, active (tab-separated after a
    header line; with --tree, indented names)."""
    from core.services.office_admin import tree

    rows = tree()
    if not rows:
        click.echo(_("No offices."))
        return
    if as_tree:
        for office, depth in rows:
            state = "" if office.active else " " + _("(inactive)")
            click.echo(f"{'  ' * depth}{office.code}  {office.name}{state}")
        return
    click.echo("code\tname\tlevel\tparent_code\tactive")
    for office, _depth in rows:
        click.echo(f"{office.code}\t{office.name}\t{office.level}\t"
                   f"{office.parent.code if office.parent else ''}\t{int(office.active)}")


@offices_cli.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
def offices_export(output: Path | None) -> None:
    """Every office as a CSV file that `flask offices import` takes back unchanged."""
    from core.services.office_admin import export_csv

    text = export_csv()
    if output:
        output.write_text(text, encoding="utf-8-sig")
        click.echo(_("Offices written to %(file)s.", file=output), err=True)
    else:
        click.echo(text, nl=False)


@offices_cli.command("deactivate")
@click.argument("office_code")
@click.option("--activate", is_flag=True, help="Reactivate the office instead.")
def offices_deactivate(office_code: str, activate: bool) -> None:
    """Stop OFFICE_CODE collecting answers (its history stays); audited."""
    from core.services.office_admin import set_active

    try:
        office = get_office(office_code)
    except DomainError as exc:
        fail(exc.message)
    changed = set_active(office, activate, actor="cli")
    if activate:
        msg = _("%(name)s is collecting answers.", name=office.name)
    else:
        msg = _("%(name)s no longer collects answers.", name=office.name)
    click.echo(msg if changed else _("Nothing changed: %(msg)s", msg=msg))


def _day(value: str | None):
    from datetime import date

    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(_("%(value)s is not a date (YYYY-MM-DD).", value=value))


@offices_cli.command("move")
@click.argument("office_code")
@click.argument("parent_code")
@click.option("--on", "on", default=None, help="The day the move took effect (YYYY-MM-DD; "
              "default today).")
def offices_move(office_code: str, parent_code: str, on: str | None) -> None:
    """Place OFFICE_CODE (with its offices) under PARENT_CODE ('-' for a top office); dated
    and audited."""
    from core.services.office_admin import move_office

    day = _day(on)
    try:
        office = get_office(office_code)
        parent = None if parent_code == "-" else get_office(parent_code)
        move_office(office, parent, actor="cli", on=day)
    except DomainError as exc:
        fail_domain(exc)
    click.echo(_("%(office)s is now under %(parent)s.", office=office.name,
                 parent=parent.name if parent else "-"))


@offices_cli.command("merge")
@click.argument("office_code")
@click.argument("into_code")
@click.option("--on", "on", default=None, help="The day the merger took effect (YYYY-MM-DD; "
              "default today).")
def offices_merge(office_code: str, into_code: str, on: str | None) -> None:
    """Merge OFFICE_CODE into INTO_CODE: it stops collecting answers and its history counts
    in INTO_CODE's reports from then on; dated and audited."""
    from core.services.office_admin import merge_office

    day = _day(on)
    try:
        merged, survivor = get_office(office_code), get_office(into_code)
        merge_office(merged, survivor, actor="cli", on=day)
    except DomainError as exc:
        fail_domain(exc)
    click.echo(_("%(merged)s has been merged into %(into)s.", merged=merged.name,
                 into=survivor.name))


@offices_cli.command("hours")
@click.argument("office_code")
@click.argument("hours")
@click.option("--days", default="12345", show_default=True,
              help="Weekdays open, as ISO digits (1 = Monday ... 7 = Sunday).")
def offices_hours(office_code: str, hours: str, days: str) -> None:
    """Set OFFICE_CODE's opening hours, e.g. "07:30-11:30,13:30-17:00" ('-' to clear):
    tablets offline then are flagged on the dashboard."""
    from core.services.kiosks import set_opening_hours

    try:
        office = get_office(office_code)
        set_opening_hours(office, "" if hours == "-" else hours, days, actor="cli")
    except DomainError as exc:
        fail_domain(exc)
    click.echo(_("Opening hours of %(name)s: %(hours)s.", name=office.name,
                 hours=office.opening_hours or "-"))


@responses_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--instrument", "instrument_id", default=None,
              help="Instrument the answers belong to (default: the configured one).")
@click.option("--replace", "replace", type=int, default=None, metavar="BATCH_ID",
              help="Replace this earlier batch by the file, in one transaction.")
@click.option("--allow-overlap", is_flag=True,
              help="Import even when most rows equal rows of an earlier batch.")
def responses_import(file: Path, instrument_id: str | None, replace: int | None,
                     allow_overlap: bool) -> None:
    """Import a paper file (CSV or XLSX) as one batch, all or nothing; the batch id is
    printed alone on the last line.

    Columns: office_code,submitted_at, then one per criterion (I.1 ... V.4) with 1-5 or
    empty for no answer; optional form_no, procedure, expectations.<area>,
    demographics.<question>, channel, comment, id.
    """
    from core.services.imports import ProbableReimport, import_path

    iid = instrument_id or current_app.config["DEFAULT_INSTRUMENT"]
    if iid not in registry():
        fail(_("unknown instrument %(id)s; known: %(known)s", id=iid,
               known=", ".join(registry().ids())))
    try:
        result = import_path(file, get_instrument(iid), actor="cli", replace=replace,
                             allow_overlap=allow_overlap,
                             progress=lambda n: click.echo(_("... %(n)s rows", n=n), err=True))
    except ImportFailed as exc:
        fail_import(exc)
    except ProbableReimport as exc:
        fail(exc.message)
    except DomainError as exc:
        fail(exc.message)
    if result.duplicate_of is not None:
        click.echo(_("The same %(rows)s rows are already stored as batch %(batch)s; nothing "
                     "was stored.", rows=result.rows, batch=result.duplicate_of))
        click.echo(str(result.duplicate_of))
        return
    for overlap in result.overlaps:
        click.echo(_("Warning: %(n)s row(s) equal rows of batch %(batch)s (%(file)s).",
                     n=overlap.rows, batch=overlap.batch_id, file=overlap.file_name), err=True)
    if result.replaced is not None:
        click.echo(_("Batch %(old)s was replaced.", old=result.replaced))
    click.echo(_("%(rows)s rows read, %(stored)s responses stored for %(offices)s office(s), "
                 "%(first)s to %(last)s, as batch %(batch)s.", rows=result.rows,
                 stored=result.stored, offices=len(result.offices), first=result.first_month,
                 last=result.last_month, batch=result.batch_id))
    click.echo(str(result.batch_id))


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


@imports_cli.command("list")
def imports_list() -> None:
    """Every paper import batch, newest first: tab-separated columns id, created (Vietnam
    time), actor, file, rows, offices, months, state after a header line."""
    from core.services.imports import list_batches, office_codes
    from core.timeutil import VN_TZ

    click.echo("id\tcreated\tactor\tfile\trows\toffices\tmonths\tstate")
    for b in list_batches(limit=100_000):
        months = b.first_month if b.first_month == b.last_month else \
            f"{b.first_month}..{b.last_month}"
        click.echo(f"{b.id}\t{b.created_at.astimezone(VN_TZ).strftime('%Y-%m-%d %H:%M')}\t"
                   f"{b.actor}\t{b.file_name}\t{b.rows}\t{','.join(office_codes(b))}\t"
                   f"{months}\t{b.state}")


@imports_cli.command("undo")
@click.argument("batch_id", type=int)
def imports_undo(batch_id: int) -> None:
    """Remove a batch's responses and their tallies in one transaction (audited)."""
    from core.services.imports import undo_batch

    try:
        result = undo_batch(batch_id, actor="cli")
    except DomainError as exc:
        fail(exc.message)
    click.echo(_("Batch %(batch)s undone: %(n)s response(s) removed (%(first)s to %(last)s).",
                 batch=result.batch_id, n=result.removed, first=result.first_month,
                 last=result.last_month))


@tallies_cli.command("rebuild")
def tallies_rebuild() -> None:
    """Recompute the monthly tallies from the raw responses."""
    import sqlalchemy as sa

    from core.extensions import db
    from core.models import Response
    from core.progress import progress
    from core.services.tallies import rebuild_tallies

    total = db.session.scalar(sa.select(sa.func.count()).select_from(Response)
                              .where(Response.counted.is_(True)))
    with progress(total, _("Rebuilding tallies")) as step:
        changed = rebuild_tallies(db.session, progress=step)
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
@click.argument("period")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "pdf"]), default="json",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")
@click.option("--instrument", "instrument_id", default=None)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--by", "by", default=None, metavar="FIELD",
              help="Add a breakdown by channel, procedure or a demographic question (JSON).")
@click.option("--final", "final", type=click.IntRange(1), default=None,
              help="A finalised version of the report of PERIOD: its frozen PDF bytes, "
                   "figures (json, csv) as finalised.")
@click.option("--include-partial", is_flag=True,
              help="Include partial responses (kiosk walk-aways) in the figures.")
def report(office_code: str, period: str, fmt: str, output: Path | None,
           instrument_id: str | None, lang: str, by: str | None, final: int | None,
           include_partial: bool) -> None:
    """SIPAS figures for OFFICE_CODE and everything below it over PERIOD: a month YYYY-MM,
    a quarter YYYY-Qn, a half-year YYYY-Hn, a year YYYY or a range YYYY-MM..YYYY-MM."""
    from core.services.breakdowns import add_breakdown
    from core.services.pdf_report import monthly_report_pdf
    from core.services.reports import period_report, report_csv

    if fmt == "pdf" and output is None:
        fail(_("--format pdf needs -o FILE."))
    if by is not None and fmt != "json":
        fail(_("--by needs --format json."))
    if final is not None:
        from core.services.report_versions import final_report_cli

        with force_locale(lang):
            try:
                payload = final_report_cli(office_code, period, final, fmt)
            except DomainError as exc:
                fail(exc.message)
        if isinstance(payload, bytes):
            assert output is not None
            output.write_bytes(payload)
        elif output:
            output.write_text(payload, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
        else:
            click.echo(payload)
        return
    with force_locale(lang):
        try:
            office = get_office(office_code)
            data = period_report(office, period, instrument_id, locale=lang,
                                 include_partial=include_partial)
            if by is not None:
                add_breakdown(data, office, by, locale=lang)
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


dossiers_cli = AppGroup("dossiers", help="Dossier volumes (the N of the sample size).")


@dossiers_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def dossiers_import(file: Path) -> None:
    """Load office_code,month,dossiers rows (the dossiers each office itself handled that
    month). All or nothing; a re-import replaces the office-months it names."""
    from core.services.dossiers import import_dossiers

    with force_locale("vi"):
        try:
            with file.open(newline="", encoding="utf-8-sig") as stream:
                n = import_dossiers(stream, actor="cli")
        except ImportFailed as exc:
            fail_import(exc)
        except UnicodeDecodeError:
            fail(_("the file is not UTF-8 text."))
    click.echo(_("%(n)s dossier volume(s) stored.", n=n))


@click.command("demo-data")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing when offices already exist.")
@click.option("--months", default=12, show_default=True, type=click.IntRange(1, 60))
@click.option("--seed", default=2022, show_default=True, type=int)
def demo_data(if_empty: bool, months: int, seed: int) -> None:
    """Load demo offices, a year of plausible responses and demo sign-ins (never in
    production)."""
    from core.progress import progress
    from core.services.demo import (
        DEMO_PASSWORD,
        database_is_empty,
        demo_office_count,
        load_demo,
        load_demo_extras,
    )

    if current_app.config["ENV"] == "production":
        fail(_("demo data is never loaded in production (SIPAS_ENV=production)."))
    if if_empty and not database_is_empty():
        click.echo(_("The database already has offices; demo data not loaded."))
        return
    instrument = get_instrument(current_app.config["DEFAULT_INSTRUMENT"])
    with progress(demo_office_count(), _("Loading demo data")) as step:
        n = load_demo(instrument, months, seed, progress=step)
    click.echo(_("Demo data loaded: %(n)s responses.", n=n))
    for username, role in load_demo_extras(instrument):
        click.echo(_("Demo sign-in at /admin/: %(user)s / %(password)s (%(role)s)",
                     user=username, password=DEMO_PASSWORD, role=role))


def init_app(app: Flask) -> None:
    from core.backup import backup_command

    for command in (offices_cli, responses_cli, imports_cli, tallies_cli, retention_cli, report,
                    demo_data, backup_command, dossiers_cli):
        app.cli.add_command(command)
