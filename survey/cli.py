"""Commands for the IT team: office API keys, receipt links, printable slips and posters.

``flask apikeys create OFFICE_CODE`` prints the key alone on the last line of standard
output, so a script can capture it with ``| tail -n 1``. Output in Vietnamese (the default
locale outside a request; help texts stay English).
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

from core.cli_support import fail, fail_domain, public_base_url
from core.errors import DomainError

apikeys_cli = AppGroup("apikeys", help="Office API keys for minting receipt links.")
receipts_cli = AppGroup("receipts", help="Receipt links, QR images, slips and posters.")

BASE_URL_HELP = ("Public address of the app (default: PUBLIC_BASE_URL, else in development "
                 "the address the app is served on, http://127.0.0.1:$PORT).")


@contextmanager
def _public_context(base_url: str | None, lang: str = "vi") -> Iterator[None]:
    """A request context on the public address, so links are built as citizens see them."""
    base = public_base_url(base_url)
    if not base_url and not current_app.config.get("PUBLIC_BASE_URL"):
        click.echo(_("Note: PUBLIC_BASE_URL is not set; links use %(base)s.", base=base),
                   err=True)
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
    click.echo(_("API key %(prefix)s… created for office %(code)s. It is shown only once; "
                 "store it now:", prefix=row.prefix, code=row.office.code))
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
        click.echo(_("No API keys."))
    for row in rows:
        status = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        if row.links_withdrawn_at:
            status += f", links withdrawn {row.links_withdrawn_at:%Y-%m-%d}"
        click.echo(f"{row.prefix}\t{row.office.code}\t{row.created_at:%Y-%m-%d %H:%M}Z\t"
                   f"{status}\t{row.label or ''}")


@apikeys_cli.command("revoke")
@click.argument("prefix")
@click.option("--withdraw-links", is_flag=True,
              help="Also withdraw the links the key already minted: citizens holding them "
                   "can no longer answer.")
def apikeys_revoke(prefix: str, withdraw_links: bool) -> None:
    """Revoke the key whose prefix (as listed) is PREFIX: it can no longer mint links.

    Links it already minted (printed on receipts) keep working, unless --withdraw-links
    (before 2026-12 revoking also withdrew them).
    """
    from core.services.receipts import revoke_api_key

    try:
        row = revoke_api_key(prefix.rstrip("…"), actor="cli", withdraw_links=withdraw_links)
    except DomainError as exc:
        fail(exc.message)
    click.echo(_("API key %(prefix)s… revoked.", prefix=row.prefix))
    if row.links_withdrawn:
        click.echo(_("The links it minted no longer work."))
    else:
        click.echo(_("The links it already minted keep working (--withdraw-links withdraws "
                     "them)."))


@apikeys_cli.command("label")
@click.argument("prefix")
@click.argument("label")
def apikeys_label(prefix: str, label: str) -> None:
    """Set what the key PREFIX is for (empty to clear); audited."""
    from core.services.receipts import label_api_key

    try:
        row = label_api_key(prefix.rstrip("…"), label, actor="cli")
    except DomainError as exc:
        fail(exc.message)
    click.echo(_("API key %(prefix)s…: %(label)s", prefix=row.prefix, label=row.label or "-"))


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
        fail(_("the output file must end in .png or .svg"))
    with _public_context(base_url):
        try:
            minted = mint_receipt(get_office(office_code), dossier_code, procedure)
        except DomainError as exc:
            fail_domain(exc)
        url = receipt_links(minted.token)["url"]
        if output:
            level = current_app.config["QR_ERROR_CORRECTION"]
            caption = qr_caption(_("Scan to rate the service"))
            data = (qr_svg(url, caption, level) if output.suffix.lower() == ".svg"
                    else qr_png(url, caption, level))
            output.write_bytes(data)
            click.echo(_("QR code written to %(file)s", file=output), err=True)
    until = f"{minted.receipt.expires_at:%d/%m/%Y}"
    click.echo(_("New link, valid until %(day)s:", day=until) if minted.created
               else _("Existing link, valid until %(day)s:", day=until), err=True)
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
    from core.progress import progress
    from core.services.offices import get_office
    from core.services.receipt_pdf import Slip, slips_pdf
    from core.services.receipts import mint_receipt
    from survey.urls import receipt_links

    codes = [line.strip() for line in codes_file if line.strip()]
    if not codes:
        fail(_("no dossier codes given"))
    with _public_context(base_url, lang):
        try:
            office = get_office(office_code)
        except DomainError as exc:
            fail(exc.message)
        slips = []
        with progress(len(codes), _("Minting links")) as step:
            for code in codes:
                try:
                    minted = mint_receipt(office, code)
                except DomainError as exc:
                    fail_domain(exc, prefix=f"{code}: ")
                slips.append(Slip(receipt_links(minted.token)["url"], code.upper()))
                step(1)
        output.write_bytes(slips_pdf(slips, office.name))
    click.echo(_("%(n)s slips written to %(file)s", n=len(slips), file=output))


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
    click.echo(_("Poster (%(size)s) for %(code)s written to %(file)s: %(url)s",
                 size=size.upper(), code=office.code, file=output, url=url))


@receipts_cli.command("purge-form-tokens")
def receipts_purge() -> None:
    """Forget used generic-link form tokens that can no longer be replayed."""
    from core.services.receipts import purge_form_uses

    click.echo(_("%(n)s used form token(s) purged.", n=purge_form_uses()))


COMMANDS = (apikeys_cli, receipts_cli)
