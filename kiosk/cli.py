"""``flask kiosks add|list|rename|idle|pause|revoke``: kiosk tablets for the IT team. Output in
Vietnamese (the default locale outside a request; help texts stay English). Exits non-zero
on error."""

from __future__ import annotations

import io

import click
from flask import current_app, url_for
from flask.cli import AppGroup
from flask_babel import gettext as _

from core.cli_support import fail, fail_domain, public_base_url
from core.errors import DomainError
from core.services import kiosks as kiosk_service
from core.services.offices import get_office

kiosks_cli = AppGroup("kiosks", help="Kiosk tablets at one-stop desks.")


def activation_link(code: str, base: str | None = None) -> str:
    """The absolute activation URL, on ``base`` (default :func:`public_base_url`:
    PUBLIC_BASE_URL, else in development http://127.0.0.1:$PORT)."""
    with current_app.test_request_context("/"):
        return (base or public_base_url()).rstrip("/") + url_for("kiosk.activate", token=code)


def _qr_text(data: str) -> str:
    import qrcode

    qr = qrcode.QRCode(border=2)
    qr.add_data(data)
    out = io.StringIO()
    qr.print_ascii(out=out, invert=True)
    return out.getvalue()


@kiosks_cli.command("add")
@click.argument("office_code")
@click.argument("name")
@click.option("--idle-seconds", type=click.IntRange(10, kiosk_service.MAX_IDLE),
              default=None, help="Idle time before a partial questionnaire is reset "
                                 "(default: KIOSK_IDLE_SECONDS, 60).")
@click.option("--credential", "with_credential", is_flag=True,
              help="Print an active device credential (alone on the last line) instead of an "
                   "activation link, for integrators' scripts and tests.")
@click.option("--qr", is_flag=True, help="Also print the activation link as a QR code.")
def kiosks_add(office_code: str, name: str, idle_seconds: int | None, with_credential: bool,
               qr: bool) -> None:
    """Register a kiosk for OFFICE_CODE at counter NAME (e.g. "Quầy 3")."""
    try:
        new = kiosk_service.add_kiosk(get_office(office_code), name, idle_seconds=idle_seconds,
                                      with_credential=with_credential, actor="cli")
    except DomainError as exc:
        fail_domain(exc)
    k = new.kiosk
    click.echo(_("Tablet %(id)s: %(code)s %(office)s / %(name)s (idle %(idle)s s)", id=k.id,
                 code=k.office_code, office=k.office_name, name=k.name, idle=k.idle_seconds))
    if new.credential:
        click.echo(_("Device credential (shown once; send as 'Authorization: Bearer …'):"))
        click.echo(new.credential)
        return
    assert new.activation_code
    link = activation_link(new.activation_code)
    days = current_app.config["KIOSK_ACTIVATION_DAYS"]
    click.echo(_("Open this link once on the tablet within %(days)s day(s) to activate it:",
                 days=days))
    if qr:
        click.echo(_qr_text(link), nl=False)
    click.echo(link)


@kiosks_cli.command("list")
@click.option("--office", "office_code", default=None, help="Only this office and below.")
def kiosks_list(office_code: str | None) -> None:
    """List kiosks: id, office, counter, status, last seen, and the offline queue and the
    submissions set aside, as the tablet last reported them."""
    from core.services.offices import descendant_ids

    office_ids = None
    if office_code:
        try:
            office_ids = descendant_ids(get_office(office_code).id)
        except DomainError as exc:
            fail(exc.message)
    rows = kiosk_service.list_kiosks(office_ids)
    if not rows:
        click.echo(_("No tablets registered."))
        return
    click.echo("id\toffice\tcounter\tstatus\tlast_seen\tpending\trejected\tonline")
    for k in rows:
        seen = k.last_seen_at.isoformat(timespec="seconds") if k.last_seen_at else "-"
        pending = "-" if k.pending_reported is None else str(k.pending_reported)
        rejected = "-" if k.rejected_reported is None else str(k.rejected_reported)
        online = int(kiosk_service.is_online(k))
        click.echo(f"{k.id}\t{k.office_code}\t{k.name}\t{k.status}\t{seen}\t{pending}"
                   f"\t{rejected}\t{online}")


@kiosks_cli.command("revoke")
@click.argument("kiosk_id", type=int)
def kiosks_revoke(kiosk_id: int) -> None:
    """Revoke kiosk KIOSK_ID at once: it can no longer submit."""
    try:
        k = kiosk_service.revoke_kiosk(kiosk_id, actor="cli")
    except DomainError as exc:
        fail(exc.message)
    assert k.revoked_at is not None
    click.echo(_("Tablet %(id)s (%(code)s / %(name)s) revoked at %(at)s; it can no longer "
                 "submit.", id=k.id, code=k.office_code, name=k.name,
                 at=k.revoked_at.isoformat(timespec="seconds")))


@kiosks_cli.command("pause")
@click.argument("kiosk_id", type=int)
@click.option("--resume", is_flag=True, help="Resume the tablet instead: the questionnaire "
                                             "comes back.")
def kiosks_pause(kiosk_id: int, resume: bool) -> None:
    """Pause kiosk KIOSK_ID (it shows a "paused" screen instead of the questionnaire but
    still sends the answers it holds), or resume it with --resume. Audited."""
    try:
        k = kiosk_service.pause_kiosk(kiosk_id, paused=not resume, actor="cli")
    except DomainError as exc:
        fail(exc.message)
    if k.paused_at is not None:
        click.echo(_("Tablet %(id)s (%(code)s / %(name)s) paused since %(at)s; the answers it "
                     "holds are still accepted.", id=k.id, code=k.office_code, name=k.name,
                     at=k.paused_at.isoformat(timespec="seconds")))
    else:
        click.echo(_("Tablet %(id)s (%(code)s / %(name)s) is taking answers again.", id=k.id,
                     code=k.office_code, name=k.name))


@kiosks_cli.command("rename")
@click.argument("kiosk_id", type=int)
@click.argument("name")
def kiosks_rename(kiosk_id: int, name: str) -> None:
    """Rename kiosk KIOSK_ID (the counter it stands at); audited."""
    try:
        k = kiosk_service.update_kiosk(kiosk_id, name=name, actor="cli")
    except DomainError as exc:
        fail_domain(exc)
    click.echo(_("Tablet %(id)s is now called %(name)s.", id=k.id, name=k.name))


@kiosks_cli.command("idle")
@click.argument("kiosk_id", type=int)
@click.argument("seconds", type=click.IntRange(10, kiosk_service.MAX_IDLE))
def kiosks_idle(kiosk_id: int, seconds: int) -> None:
    """Set kiosk KIOSK_ID's idle time (seconds before a partial questionnaire is reset);
    the tablet picks it up with its next heartbeat. Audited."""
    try:
        k = kiosk_service.update_kiosk(kiosk_id, idle_seconds=seconds, actor="cli")
    except DomainError as exc:
        fail_domain(exc)
    click.echo(_("Tablet %(id)s: idle time %(idle)s s.", id=k.id, idle=k.idle_seconds))
