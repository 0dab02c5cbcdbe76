"""Commands of the results area: ``flask users``, ``flask tokens``, ``flask targets``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from flask_babel import gettext as _

from core.cli_support import fail, fail_domain, fail_import
from core.errors import DomainError
from core.extensions import db
from core.models import ROLES
from core.services import accounts
from core.services.common import get_instrument
from core.services.offices import ImportFailed, get_office
from core.services.targets import DEFAULT_FILE, import_targets

users_cli = AppGroup("users", help="Accounts of office heads, viewers and administrators.")
tokens_cli = AppGroup("tokens", help="Personal API tokens.")
targets_cli = AppGroup("targets", help="Yearly targets.")
comments_cli = AppGroup("comments", help="Citizens' comments and contact requests.")


def vietnamese(func):
    """Run a command with Vietnamese messages (there is no request to pick a locale)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with force_locale("vi"):
            return func(*args, **kwargs)

    return wrapper


def _user_or_fail(username: str):
    user = accounts.get_user(username)
    if user is None:
        fail(_("no user named %(user)s", user=username))
    return user


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--office", "office_code", default=None, help="Office code (required for head "
              "and viewer).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input "
              "(first line) instead of prompting.")
@click.option("--temporary/--permanent", default=True, show_default=True,
              help="Whether the user must change the password at first sign-in.")
@vietnamese
def users_create(username: str, role: str, office_code: str | None, password_stdin: bool,
                 temporary: bool) -> None:
    """Create an account. The password is asked for (or read from stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Mật khẩu / Password", hide_input=True,
                                confirmation_prompt=True)
    try:
        user, _pw = accounts.create_user(username, role, office_code, password, actor="cli",
                                         must_change=temporary)
    except DomainError as exc:
        fail_domain(exc)
    click.echo(_("User %(user)s created (%(role)s%(office)s).", user=user.username,
                 role=user.role, office=", " + user.office.code if user.office else ""))


@users_cli.command("list")
@vietnamese
def users_list() -> None:
    """List accounts: name, role, office, state."""
    for u in accounts.list_users():
        click.echo(f"{u.username}\t{u.role}\t{u.office.code if u.office else '-'}\t"
                   f"{'active' if u.active else 'disabled'}")


@users_cli.command("disable")
@click.argument("username")
@vietnamese
def users_disable(username: str) -> None:
    """Disable an account: its sessions end and its API tokens are revoked."""
    accounts.set_active(_user_or_fail(username), False, actor="cli")
    click.echo(_("User %(user)s disabled.", user=username))


@users_cli.command("unlock")
@click.argument("username")
@vietnamese
def users_unlock(username: str) -> None:
    """Let an account throttled after failed sign-ins sign in again from every address."""
    accounts.unlock(_user_or_fail(username), actor="cli")
    click.echo(_("%(user)s can sign in again from every address.", user=username))


@users_cli.command("remove-demo")
@vietnamese
def users_remove_demo() -> None:
    """Delete the demo accounts of `flask demo-data` that still have the published demo
    password (production refuses to start while one exists)."""
    from core.services.demo import remove_demo_accounts

    removed = remove_demo_accounts(actor="cli")
    if not removed:
        click.echo(_("There is no demo account."))
    for username in removed:
        click.echo(_("Demo account %(user)s deleted.", user=username))


@tokens_cli.command("create")
@click.argument("username")
@click.option("--label", default=None, help="What the token is for.")
@vietnamese
def tokens_create(username: str, label: str | None) -> None:
    """Create a personal API token; the token alone is printed on the last line."""
    try:
        new = accounts.create_token(_user_or_fail(username), label, actor="cli")
    except DomainError as exc:
        fail(exc.message)
    click.echo(_("Token %(id)s for %(user)s (shown only once):", id=new.token.id,
                 user=username))
    click.echo(new.secret)


@tokens_cli.command("list")
@click.option("--user", "username", default=None, help="Only the tokens of this user.")
@vietnamese
def tokens_list(username: str | None) -> None:
    """List every personal API token (never the token itself): id, user, prefix, label,
    created, last used, state."""
    if username is not None:
        _user_or_fail(username)
    rows = accounts.list_tokens(username=username)
    if not rows:
        click.echo(_("No tokens."))
        return
    click.echo("id\tuser\tprefix\tlabel\tcreated\tlast_used\tstate")
    for t in rows:
        used = t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "-"
        state = "revoked" if t.revoked_at else "active"
        label = " ".join((t.label or "").split())  # one line, no tab inside a column
        click.echo(f"{t.id}\t{t.user.username}\t{t.prefix}\t{label}\t"
                   f"{t.created_at.isoformat(timespec='seconds')}\t{used}\t{state}")


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
@vietnamese
def tokens_revoke(token_id: int) -> None:
    """Revoke a token by its number (as in `flask tokens list`)."""
    try:
        accounts.revoke_token(token_id, actor=None, actor_name="cli")
    except DomainError as exc:
        fail(exc.message)
    click.echo(_("Token %(id)s revoked.", id=token_id))


@targets_cli.command("import")
@click.argument("file", required=False,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--office", "office_code", default=None,
              help="Office the targets belong to (default: the root office).")
@vietnamese
def targets_import(file: Path | None, office_code: str | None) -> None:
    """Load targets from a CSV file year,code,target[,office_code]; without FILE, the 2022
    city targets of Hanoi's plan 192/KH-UBND."""
    from core.services.scope import root_office

    try:
        office = get_office(office_code) if office_code else root_office()
    except DomainError as exc:
        fail(exc.message)
    path = file or DEFAULT_FILE
    instrument = get_instrument(current_app.config["DEFAULT_INSTRUMENT"])
    try:
        with path.open(newline="", encoding="utf-8-sig") as stream:
            n = import_targets(stream, office, instrument, actor="cli")
    except ImportFailed as exc:
        fail_import(exc)
    db.session.commit()
    click.echo(_("%(n)s targets loaded for %(code)s.", n=n, code=office.code))


@comments_cli.command("withdraw")
@click.option("--contact", default=None,
              help="Every contact request given with this phone number or e-mail address.")
@click.option("--request", "request_id", type=int, default=None,
              help="One contact request, by its number on the comments page.")
@click.option("--response", "response_id", type=int, default=None,
              help="The anonymous comment of one answer, by its number on the comments page.")
@vietnamese
def comments_withdraw(contact: str | None, request_id: int | None,
                      response_id: int | None) -> None:
    """Withdraw a citizen's comment and contact data at their request: a contact request is
    deleted, an anonymous comment is removed from its answer (the scores stay). Audited
    without the text or the contact."""
    from core.services import feedback

    if sum(x is not None for x in (contact, request_id, response_id)) != 1:
        fail(_("give exactly one of --contact, --request and --response."))
    try:
        if contact is not None:
            n = feedback.withdraw_contact(contact, actor="cli")
        elif request_id is not None:
            feedback.withdraw_request(request_id, actor="cli")
            n = 1
        else:
            assert response_id is not None
            feedback.withdraw_comment(response_id, actor="cli")
            n = 1
    except DomainError as exc:
        fail("; ".join(exc.fields.values()) or exc.message)
    click.echo(_("%(n)s comment(s) withdrawn.", n=n))


COMMANDS = (users_cli, tokens_cli, targets_cli, comments_cli)
