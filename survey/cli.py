"""Commands for the IT team: office API keys, receipt links, printable slips and posters.

``flask apikeys create OFFICE_CODE`` prints the key alone on the last line of standard
output, so a script can capture it with ``| tail -n 1``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from flask_babel import gettext as _

from core.cli_support import fail
from core.errors import DomainError

apikeys_cli = AppGroup("apikeys", help="Office API keys for minting receipt links.")
receipts_cli = AppGroup("receipts", help="Receipt links, QR images, slips and posters.")

BASE_URL_HELP = ("Public address of the app (default: PUBLIC_BASE_URL, else "
                 "http://127.0.0.1:5000).")


@contextmanager
def _public_context(base_url: str | None, lang: str = "vi") -> Iterator[None]:
    """A request context on the public address, so links are built as citizens see them."""
    base = base_url or current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        base = "http://127.0.0.1:5000"
        click.echo(f"Note: PUBLIC_BASE_URL is not set; links use {base}.", err=True)
    saved = current_app.config.get("PUBLIC_BASE_URL")
    current_app.config["PUBLIC_BASE_URL"] = base
    try:
        with current_app.test_request_context("/", base_url=base), force_locale(lang):
            yield
    finally:
        current_app.config["PUBLIC_BASE_URL"] = saved


@apikeys_cli.command("create")
@click.argument("office_code")
@click.option("--label", default=None, help="What the key is for, e.g. the software's name.")
def apikeys_create(office_code: str, label: str | None) -> None:
    """Create an API key for OFFICE_CODE; the key is shown once, on the last line."""
    from core.services.receipts import create_api_key

    try:
        row, key = create_api_key(office_code, label)
    except DomainError as exc:
        fail(exc.message)
    click.echo(f"API key {row.prefix}… created for office {office_code}. "
               "It is shown only once; store it now:")
    click.echo(key)


@apikeys_cli.command("list")
@click.argument("office_code", required=False)
def apikeys_list(office_code: str | None) -> None:
    """List API keys (prefix, office, created, status, label)."""
    from core.services.receipts import list_api_keys

    try:
        rows = list_api_keys(office_code)
    except DomainError as exc:
        fail(exc.message)
    if not rows:
        click.echo("No API keys.")
    for row in rows:
        status = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        click.echo(f"{row.prefix}\t{row.office.code}\t{row.created_at:%Y-%m-%d %H:%M}Z\t"
                   f"{status}\t{row.label or ''}")


@apikeys_cli.command("revoke")
@click.argument("prefix")
def apikeys_revoke(prefix: str) -> None:
    """Revoke the key whose prefix (as listed) is PREFIX; its links stop working."""
    from core.services.receipts import revoke_api_key

    try:
        row = revoke_api_key(prefix.rstrip("…"))
    except DomainError as exc:
        fail(exc.message)
    click.echo(f"API key {row.prefix}… revoked.")


@receipts_cli.command("mint")
@click.argument("office_code")
@click.argument("dossier_code")
@click.option("--procedure", default=None, help="The administrative procedure (optional).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the QR code to this .png or .svg file.")
@click.option("--base-url", default=None, help=BASE_URL_HELP)
def receipts_mint(office_code: str, dossier_code: str, procedure: str | None,
                  output: Path | None, base_url: str | None) -> None:
    """Print the survey link of DOSSIER_CODE at OFFICE_CODE (the same link every time)."""
    from core.services.offices import get_office
    from core.services.qrcodes import qr_png, qr_svg
    from core.services.receipts import mint_receipt
    from survey.urls import qr_caption, receipt_links

    if output and output.suffix.lower() not in (".png", ".svg"):
        fail("the output file must end in .png or .svg")
    with _public_context(base_url):
        try:
            minted = mint_receipt(get_office(office_code), dossier_code, procedure)
        except DomainError as exc:
            fail("; ".join([exc.message, *exc.fields.values()]))
        url = receipt_links(minted.token)["url"]
        if output:
            level = current_app.config["QR_ERROR_CORRECTION"]
            caption = qr_caption(_("Scan to rate the service"))
            data = (qr_svg(url, caption, level) if output.suffix.lower() == ".svg"
                    else qr_png(url, caption, level))
            output.write_bytes(data)
            click.echo(f"QR code written to {output}", err=True)
    click.echo(f"{'New link' if minted.created else 'Existing link'}, valid until "
               f"{minted.receipt.expires_at:%Y-%m-%d}:", err=True)
    click.echo(url)


@receipts_cli.command("slips")
@click.argument("office_code")
@click.argument("codes_file", type=click.File("r", encoding="utf-8-sig"))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--base-url", default=None, help=BASE_URL_HELP)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
def receipts_slips(office_code: str, codes_file, output: Path, base_url: str | None,
                   lang: str) -> None:
    """An A4 PDF of receipt slips for the dossier codes in CODES_FILE (one per line, '-' for
    standard input), minting each link (idempotent)."""
    from core.services.offices import get_office
    from core.services.receipt_pdf import Slip, slips_pdf
    from core.services.receipts import mint_receipt
    from survey.urls import receipt_links

    codes = [line.strip() for line in codes_file if line.strip()]
    if not codes:
        fail("no dossier codes given")
    with _public_context(base_url, lang):
        try:
            office = get_office(office_code)
            slips = []
            for code in codes:
                minted = mint_receipt(office, code)
                slips.append(Slip(receipt_links(minted.token)["url"], code.upper()))
        except DomainError as exc:
            fail(f"{code}: " + "; ".join([exc.message, *exc.fields.values()]))
        output.write_bytes(slips_pdf(slips, office.name))
    click.echo(f"{len(slips)} slips written to {output}")


@receipts_cli.command("poster")
@click.argument("office_code")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--size", type=click.Choice(["A4", "A5"], case_sensitive=False), default="A4",
              show_default=True)
@click.option("--counter", default=None, help='Counter name printed under the office, '
              'e.g. "Quầy số 3".')
@click.option("--base-url", default=None, help=BASE_URL_HELP)
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
def receipts_poster(office_code: str, output: Path, size: str, counter: str | None,
                    base_url: str | None, lang: str) -> None:
    """A PDF poster with the QR code of OFFICE_CODE's generic survey link."""
    from core.services.offices import get_office
    from core.services.receipt_pdf import poster_pdf
    from survey.urls import public_url

    with _public_context(base_url, lang):
        try:
            office = get_office(office_code)
        except DomainError as exc:
            fail(exc.message)
        url = public_url("survey.generic", office_code=office.code)
        output.write_bytes(poster_pdf(office.name, url, size, counter))
    click.echo(f"Poster ({size.upper()}) for {office.code} written to {output}: {url}")


@receipts_cli.command("purge-form-tokens")
def receipts_purge() -> None:
    """Forget used generic-link form tokens that can no longer be replayed."""
    from core.services.receipts import purge_form_uses

    click.echo(f"{purge_form_uses()} used form token(s) purged.")


COMMANDS = (apikeys_cli, receipts_cli)
