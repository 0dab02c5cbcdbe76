"""Tablets, QR material and API keys from the browser.

* tablets: register (the one-time activation link as a large QR on a printable page),
  rename, idle time, pause and resume, the office's opening hours, revoke after a
  confirmation; status from the heartbeat (online/offline, last seen, queue, refused
  answers);
* QR material: the receipt slip sheet for a desk (mints one link per dossier code), the
  generic-link poster (A4/A5), the generic link's QR code as PNG/SVG;
* API keys of the one-stop software: create (shown once), label, list, revoke (optionally
  withdrawing the links the key already minted).

Each action calls the service its command twin calls (``flask kiosks``, ``flask receipts``,
``flask apikeys``, ``flask offices hours``): same rows, same audit events. Scope: an
administrator anywhere, an office head within their subtree, a viewer reads.
"""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from admin.auth import user
from admin.forms import ActionForm
from admin.setup_forms import (
    ApiKeyForm,
    ConfirmForm,
    HoursForm,
    KioskEditForm,
    KioskForm,
    LabelForm,
    PosterForm,
    RevokeKeyForm,
    SlipsForm,
)
from admin.views import bp
from core.errors import DomainError, NotFound
from core.models import Kiosk, OfficeApiKey, User
from core.services import kiosks, scope
from core.services.offices import descendant_ids

MAX_SLIPS = 1000  # dossier codes per slip sheet from the browser

# --- helpers ---------------------------------------------------------------------------


def _scope_office(u: User):
    code = request.values.get("office")
    return scope.office_in_scope(u, code) if code else scope.home_office(u)


def _kiosk(kiosk_id: int) -> Kiosk:
    """A kiosk of an office the user may see, else NotFound (its existence not revealed)."""
    from core.extensions import db

    kiosk = db.session.get(Kiosk, kiosk_id)
    if kiosk is None or not scope.may_see(user(), kiosk.office_id):
        raise NotFound("not_found", _("There is no such tablet."))
    return kiosk


def _fields_to_form(form, exc: DomainError) -> None:
    for name, problem in exc.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, problem]


def _active_offices(u: User):
    return scope.offices_in_scope(u)


# --- tablets ---------------------------------------------------------------------------

@bp.app_template_global()
def tablet_status(info: kiosks.KioskInfo) -> str:
    """'online', 'offline', 'pending', 'paused' or 'revoked'."""
    if info.status != "active":
        return info.status
    return "online" if kiosks.is_online(info) else "offline"


@bp.app_template_global()
def current_kiosk_version() -> str | None:
    """The kiosk app's version this server serves (None when the kiosk area is not set up),
    to mark tablets that still run another one."""
    from flask import current_app

    version = current_app.extensions.get("sipas_kiosk_app_version")
    return version() if version else None


@bp.app_template_global()
def offline_tablets(office_code: str) -> list[kiosks.KioskInfo]:
    """Tablets of the office's subtree that are offline while their office is open (the
    dashboard's warning; the office is already within the user's scope)."""
    from core.services.offices import get_office

    try:
        office = get_office(office_code)
    except DomainError:
        return []
    return kiosks.offline_while_open(descendant_ids(office.id))


@bp.route("/kiosks/new", methods=["GET", "POST"])
def kiosk_new():
    u = user()
    scope.require(u, "manage_kiosks")
    offices = _active_offices(u)
    form = KioskForm(offices)
    if request.method == "GET":
        form.office.data = _scope_office(u).code
        form.idle_seconds.data = current_app.config["KIOSK_IDLE_SECONDS"]
    status = 200
    if form.validate_on_submit():
        office = scope.office_in_scope(u, form.office.data)
        try:
            new = kiosks.add_kiosk(office, form.name.data, idle_seconds=form.idle_seconds.data,
                                   actor=u.username)
        except DomainError as exc:
            _fields_to_form(form, exc)
            if not exc.fields:
                form.office.errors = [*form.office.errors, exc.message]
            status = 400
        else:
            from core.public_urls import public_base

            assert new.activation_code
            link = public_base() + url_for("kiosk.activate", token=new.activation_code)
            return render_template("admin/kiosk_activation.html", kiosk=new.kiosk, link=link,
                                   qr=kiosks.activation_qr_svg(link),
                                   days=current_app.config["KIOSK_ACTIVATION_DAYS"])
    elif request.method == "POST":
        status = 400
    return render_template("admin/kiosk_new.html", form=form), status


@bp.route("/kiosks/<int:kiosk_id>/edit", methods=["GET", "POST"])
def kiosk_edit(kiosk_id: int):
    u = user()
    kiosk = _kiosk(kiosk_id)
    scope.require(u, "manage_kiosks")
    form = KioskEditForm(obj=kiosk if request.method == "GET" else None)
    status = 200
    if form.validate_on_submit():
        try:
            kiosks.update_kiosk(kiosk.id, name=form.name.data,
                                idle_seconds=form.idle_seconds.data, actor=u.username)
        except DomainError as exc:
            _fields_to_form(form, exc)
            status = 400
        else:
            flash(_("The tablet has been updated."), "info")
            return redirect(url_for("admin.kiosks_page", office=kiosk.office.code))
    elif request.method == "POST":
        status = 400
    return render_template("admin/kiosk_edit.html", form=form, kiosk=kiosk,
                           action=ActionForm()), status


@bp.post("/kiosks/<int:kiosk_id>/<any(pause, resume):op>")
def kiosk_pause(kiosk_id: int, op: str):
    """Pause a tablet (a "paused" screen instead of the questionnaire; the answers it holds
    are still accepted) or resume it, as ``flask kiosks pause ID [--resume]``."""
    u = user()
    kiosk = _kiosk(kiosk_id)
    scope.require(u, "manage_kiosks")
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        kiosks.pause_kiosk(kiosk.id, paused=op == "pause", actor=u.username)
    except DomainError as exc:  # revoked in the meantime
        flash(exc.message, "error")
    else:
        flash(_("The tablet has been paused: it shows a notice instead of the questionnaire "
                "and still sends the answers it holds.") if op == "pause"
              else _("The tablet is taking answers again."), "info")
    return redirect(url_for("admin.kiosks_page", office=kiosk.office.code))


@bp.route("/kiosks/<int:kiosk_id>/revoke/confirm", methods=["GET", "POST"])
def kiosk_revoke_confirm(kiosk_id: int):
    """Revoking asks first: the page says what happens, the box must be ticked."""
    u = user()
    kiosk = _kiosk(kiosk_id)
    scope.require(u, "manage_kiosks")
    form = ConfirmForm()
    if form.validate_on_submit():
        kiosks.revoke_kiosk(kiosk.id, actor=u.username)
        flash(_("The tablet has been revoked."), "info")
        return redirect(url_for("admin.kiosks_page", office=kiosk.office.code))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/kiosk_revoke.html", form=form, kiosk=kiosk), status


@bp.route("/offices/<code>/hours", methods=["GET", "POST"])
def office_hours(code: str):
    u = user()
    office = scope.office_in_scope(u, code)
    scope.require(u, "manage_kiosks")
    form = HoursForm(obj=office if request.method == "GET" else None)
    if request.method == "GET" and not office.opening_days:
        form.opening_days.data = "12345"
    status = 200
    if form.validate_on_submit():
        try:
            kiosks.set_opening_hours(office, form.opening_hours.data, form.opening_days.data,
                                     actor=u.username)
        except DomainError as exc:
            _fields_to_form(form, exc)
            status = 400
        else:
            flash(_("The opening hours have been saved."), "info")
            return redirect(url_for("admin.kiosks_page", office=office.code))
    elif request.method == "POST":
        status = 400
    return render_template("admin/office_hours.html", form=form, office=office), status


# --- QR material and API keys ----------------------------------------------------------

def _keys_visible(u: User) -> list[OfficeApiKey]:
    from core.services.receipts import list_api_keys

    return list_api_keys(office_ids=scope.visible_office_ids(u))


def _key(prefix: str) -> OfficeApiKey:
    from core.services.receipts import find_api_key

    try:
        row = find_api_key(prefix)
    except DomainError:
        raise NotFound("unknown_key", _("There is no API key %(prefix)s.",
                                        prefix=prefix)) from None
    if not scope.may_see(user(), row.office_id):
        raise NotFound("unknown_key", _("There is no API key %(prefix)s.", prefix=prefix))
    return row


def _qr_page(u: User, office, *, key_form=None, created=None, slips=None, status=200):
    can_keys = scope.can(u, "manage_keys")
    key_form = key_form or ApiKeyForm(scope.offices_in_scope(u), formdata=None)
    if key_form.office.data is None:
        key_form.office.data = office.code
    return render_template(
        "admin/qr.html", office=office, offices=scope.offices_in_scope(u),
        poster=PosterForm(formdata=None), slips=slips or SlipsForm(formdata=None),
        key_form=key_form, created=created, keys=_keys_visible(u), can_keys=can_keys,
        label_forms={k.prefix: LabelForm(prefix=f"l{k.id}", label=k.label, formdata=None)
                     for k in _keys_visible(u)},
        action=ActionForm()), status


@bp.get("/qr")
def qr_page():
    u = user()
    return _qr_page(u, _scope_office(u))


@bp.get("/qr/<code>/poster.pdf")
def qr_poster(code: str):
    """The generic-link poster (as `flask receipts poster`)."""
    from core.public_urls import public_url
    from core.services.receipt_pdf import poster_pdf

    office = scope.office_in_scope(user(), code)
    form = PosterForm(request.args)
    if not form.validate():
        abort(400)
    url = public_url("survey.generic", office_code=office.code)
    pdf = poster_pdf(office.name, url, form.size.data, form.counter.data or None)
    name = f"sipas-poster-{office.code}-{form.size.data}.pdf"
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/qr/<code>/generic.<any(png, svg):fmt>")
def qr_generic(code: str, fmt: str):
    """The generic link's QR code (as `flask receipts mint -o` draws a receipt's)."""
    from core.public_urls import public_url, qr_caption
    from core.services.qrcodes import qr_png, qr_svg

    office = scope.office_in_scope(user(), code)
    url = public_url("survey.generic", office_code=office.code)
    level = current_app.config["QR_ERROR_CORRECTION"]
    caption = qr_caption(_("Scan to rate the service"))
    data = qr_svg(url, caption, level) if fmt == "svg" else qr_png(url, caption, level)
    return Response(data, mimetype="image/svg+xml" if fmt == "svg" else "image/png",
                    headers={"Content-Disposition":
                             f'attachment; filename="sipas-{office.code}.{fmt}"'})


@bp.post("/qr/<code>/slips.pdf")
def qr_slips(code: str):
    """A receipt slip sheet for a desk: one link minted per dossier code (as `flask
    receipts slips`; minting is idempotent)."""
    from core.public_urls import receipt_links
    from core.services.receipt_pdf import Slip, slips_pdf
    from core.services.receipts import mint_receipt

    u = user()
    office = scope.office_in_scope(u, code)
    scope.require(u, "manage_keys")
    form = SlipsForm()
    codes = [line.strip() for line in (form.codes.data or "").splitlines() if line.strip()]
    if not form.validate_on_submit() or not codes:
        if not form.errors and request.method == "POST" and form.csrf_token.errors == []:
            form.codes.errors = [_("no dossier codes given")]
        return _qr_page(u, office, slips=form, status=400)
    if len(codes) > MAX_SLIPS:
        form.codes.errors = [_("at most %(n)s dossier codes at a time", n=MAX_SLIPS)]
        return _qr_page(u, office, slips=form, status=400)
    slips = []
    for dossier in codes:
        try:
            minted = mint_receipt(office, dossier)
        except DomainError as exc:
            form.codes.errors = [f"{dossier}: " + "; ".join([exc.message,
                                                             *exc.fields.values()])]
            return _qr_page(u, office, slips=form, status=400)
        slips.append(Slip(receipt_links(minted.token)["url"], dossier.upper()))
    return Response(slips_pdf(slips, office.name), mimetype="application/pdf",
                    headers={"Content-Disposition":
                             f'attachment; filename="sipas-slips-{office.code}.pdf"'})


@bp.post("/apikeys")
def apikey_create():
    from core.services.receipts import create_api_key

    u = user()
    scope.require(u, "manage_keys")
    form = ApiKeyForm(scope.offices_in_scope(u))
    if not form.validate_on_submit():
        return _qr_page(u, _scope_office(u), key_form=form, status=400)
    office = scope.office_in_scope(u, form.office.data)
    try:
        row, key = create_api_key(office.code, form.label.data, actor=u.username)
    except DomainError as exc:
        form.office.errors = [exc.message]
        return _qr_page(u, office, key_form=form, status=400)
    return _qr_page(u, office, created=(row.prefix, key))


@bp.post("/apikeys/<prefix>/label")
def apikey_label(prefix: str):
    from core.services.receipts import label_api_key

    u = user()
    row = _key(prefix)
    scope.require(u, "manage_keys")
    form = LabelForm(prefix=f"l{row.id}")
    if not form.validate_on_submit():
        abort(400)
    label_api_key(row.prefix, form.label.data, actor=u.username)
    flash(_("The key has been updated."), "info")
    return redirect(url_for("admin.qr_page", office=row.office.code))


@bp.route("/apikeys/<prefix>/revoke", methods=["GET", "POST"])
def apikey_revoke(prefix: str):
    """Revoking asks first, and offers to withdraw the links the key already minted."""
    from core.services.receipts import revoke_api_key

    u = user()
    row = _key(prefix)
    scope.require(u, "manage_keys")
    form = RevokeKeyForm()
    if form.validate_on_submit():
        revoke_api_key(row.prefix, actor=u.username, withdraw_links=form.withdraw_links.data)
        flash(_("The key has been revoked.") + " " + (
            _("The links it minted no longer work.") if form.withdraw_links.data
            else _("The links it already minted keep working.")), "info")
        return redirect(url_for("admin.qr_page", office=row.office.code))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/apikey_revoke.html", form=form, key=row), status
