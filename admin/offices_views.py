"""The office tree from the browser: tree with search, create, edit, deactivate, move,
merge, CSV upload with a preview, export.

Scope: an administrator manages every office; an office head the offices of their subtree
(their own office too, without moving it out); a viewer reads the tree. Each action calls
the service its ``flask offices`` twin calls (:mod:`core.services.office_admin`), so both
store the same rows and the same audit events.
"""

from __future__ import annotations

import io

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from admin.auth import user
from admin.forms import ActionForm
from admin.setup_forms import (
    LEVEL_LABELS,
    REPORT_FIELD_LABELS,
    ConfirmUploadForm,
    MergeForm,
    MoveForm,
    OfficeForm,
    UploadForm,
)
from admin.views import bp
from core.errors import DomainError, NotAllowed
from core.models import OFFICE_REPORT_FIELDS, Office, User
from core.services import office_admin, scope
from core.services.offices import ImportFailed, check_offices_file

MAX_UPLOAD = 1_000_000  # bytes of an offices file


def _may_manage(u: User) -> bool:
    return scope.can(u, "manage_offices")


def _office(code: str) -> Office:
    """The office with this code (any letter case) within the user's scope, else 404."""
    return scope.office_in_scope(user(), code)


def _require_manage(office: Office | None = None, *, own_ok: bool = True) -> User:
    """The user, when they may manage ``office`` (403 for the role, 404 outside the scope;
    a head's own office only when ``own_ok``)."""
    u = user()
    scope.require(u, "manage_offices")
    if office is not None and not own_ok and u.role != "admin" and office.id == u.office_id:
        raise NotAllowed("forbidden", _("You do not have access to this page."))
    return u


def _parents(u: User, exclude: Office | None = None) -> list[tuple[Office, int]]:
    """The offices a user may place an office under (not ``exclude`` nor below it)."""
    rows = office_admin.tree(scope.visible_office_ids(u), include_inactive=False)
    if exclude is None:
        return rows
    below = set(office_admin.descendant_ids(exclude.id))
    return [(o, d) for o, d in rows if o.id not in below]


def _line_errors(exc: ImportFailed) -> list[str]:
    return [e.reason for e in exc.errors]


@bp.get("/offices")
def offices_page():
    u = user()
    ids = scope.visible_office_ids(u)
    rows = office_admin.tree(ids)
    query = (request.args.get("q") or "").strip()[:100]
    found = office_admin.search(query, rows) if query else None
    kids = {o.id for o, _d in rows if o.parent_id is not None}
    parents = {o.parent_id for o, _d in rows if o.id in kids}
    return render_template("admin/offices.html", rows=rows, found=found, query=query,
                           has_children=parents, can_manage=_may_manage(u),
                           level_labels=LEVEL_LABELS,
                           changes=office_admin.changes(ids, limit=20),
                           names={o.id: o for o, _d in rows}, action=ActionForm())


@bp.get("/offices/export.csv")
def offices_export():
    text = office_admin.export_csv(scope.visible_office_ids(user()))
    return Response("\ufeff" + text, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="sipas-offices.csv"'})


def _form_values(form: OfficeForm, office: Office | None) -> dict:
    values = {"code": office.code if office else form.code.data.strip(),
              "name": form.name.data, "level": form.level.data,
              "parent_code": form.parent_code.data or "",
              "active": "1" if office is None or office.active else "0"}
    for key in OFFICE_REPORT_FIELDS:
        values[key] = getattr(form, key).data or ""
    return values


def _save(form: OfficeForm, office: Office | None) -> list[str]:
    """Store the form through the import rules; the problems, or [] when stored."""
    u = user()
    try:
        office_admin.import_rows(office_admin.row_csv(_form_values(form, office)),
                                 actor=u.username, allowed=scope.visible_office_ids(u))
    except ImportFailed as exc:
        return _line_errors(exc)
    return []


@bp.route("/offices/new", methods=["GET", "POST"])
def office_new():
    u = _require_manage()
    form = OfficeForm(_parents(u), top_allowed=u.role == "admin")
    if request.method == "GET" and request.args.get("parent"):
        form.parent_code.data = _office(request.args["parent"]).code
    problems: list[str] = []
    if form.validate_on_submit():
        if scope.visible_office_ids(u) is not None and not form.parent_code.data:
            abort(400)
        problems = _save(form, None)
        if not problems:
            flash(_("The office has been created."), "info")
            return redirect(url_for("admin.offices_page"))
    status = 400 if problems or form.errors else 200
    return render_template("admin/office_form.html", form=form, office=None,
                           problems=problems, report_labels=REPORT_FIELD_LABELS), status


@bp.route("/offices/<code>/edit", methods=["GET", "POST"])
def office_edit(code: str):
    office = _office(code)
    u = _require_manage(office)
    own = u.role != "admin" and office.id == u.office_id
    parents = ([(office.parent, 0)] if own and office.parent else _parents(u, exclude=office))
    if office.parent is not None and all(o.id != office.parent_id for o, _d in parents):
        parents = [(office.parent, 0), *parents]  # e.g. an inactive parent: kept as it is
    form = OfficeForm(parents, top_allowed=u.role == "admin" or own and not office.parent,
                      obj=None if request.method == "POST" else office)
    if request.method == "GET":
        form.parent_code.data = office.parent.code if office.parent else ""
    form.code.data = office.code  # the code is not edited
    problems: list[str] = []
    if form.validate_on_submit():
        problems = _save(form, office)
        if not problems:
            flash(_("The office has been saved."), "info")
            return redirect(url_for("admin.offices_page"))
    status = 400 if problems or form.errors else 200
    return render_template("admin/office_form.html", form=form, office=office,
                           problems=problems, report_labels=REPORT_FIELD_LABELS,
                           move=MoveForm(_parents(u, exclude=office), prefix="mv",
                                         top_allowed=u.role == "admin", formdata=None),
                           merge=MergeForm(_parents(u, exclude=office), prefix="mg",
                                           formdata=None),
                           action=ActionForm(), own=own), status


@bp.post("/offices/<code>/<any(deactivate, activate):op>")
def office_active(code: str, op: str):
    office = _office(code)
    u = _require_manage(office, own_ok=False)
    if not ActionForm().validate_on_submit():
        abort(400)
    office_admin.set_active(office, op == "activate", actor=u.username)
    flash(_("%(name)s is collecting answers.", name=office.name) if op == "activate"
          else _("%(name)s no longer collects answers.", name=office.name), "info")
    return redirect(url_for("admin.office_edit", code=office.code))


@bp.post("/offices/<code>/move")
def office_move(code: str):
    office = _office(code)
    u = _require_manage(office, own_ok=False)
    form = MoveForm(_parents(u, exclude=office), prefix="mv", top_allowed=u.role == "admin")
    if not form.validate_on_submit():
        abort(400)
    parent = _office(form.parent_code.data) if form.parent_code.data else None
    if parent is None and u.role != "admin":
        abort(400)
    try:
        office_admin.move_office(office, parent, actor=u.username, on=form.effective_on.data)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("admin.office_edit", code=office.code))
    flash(_("%(office)s is now under %(parent)s.", office=office.name,
            parent=parent.name if parent else "-"), "info")
    return redirect(url_for("admin.offices_page"))


@bp.post("/offices/<code>/merge")
def office_merge(code: str):
    office = _office(code)
    u = _require_manage(office, own_ok=False)
    form = MergeForm(_parents(u, exclude=office), prefix="mg")
    if not form.validate_on_submit():
        flash(_("Tick the box to confirm the merger."), "error")
        return redirect(url_for("admin.office_edit", code=office.code))
    survivor = _office(form.into_code.data)
    try:
        office_admin.merge_office(office, survivor, actor=u.username,
                                  on=form.effective_on.data)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("admin.office_edit", code=office.code))
    flash(_("%(merged)s has been merged into %(into)s.", merged=office.name,
            into=survivor.name), "info")
    return redirect(url_for("admin.offices_page"))


@bp.route("/offices/import", methods=["GET", "POST"])
def offices_import():
    """Upload an offices file: a preview (every bad line, or what would change), then
    store it with a second, confirmed submission (all or nothing, as `flask offices
    import`)."""
    u = _require_manage()
    upload, confirm = UploadForm(), ConfirmUploadForm(prefix="c")
    allowed = scope.visible_office_ids(u)
    if confirm.content.data and confirm.validate_on_submit():
        try:
            result = office_admin.import_rows(io.StringIO(confirm.content.data),
                                              actor=u.username, allowed=allowed)
        except ImportFailed as exc:
            return render_template("admin/offices_import.html", upload=UploadForm(
                formdata=None), errors=exc.errors, rows=[], confirm=None), 400
        flash(_("%(created)s created, %(updated)s updated, %(unchanged)s unchanged.",
                created=result.created, updated=result.updated,
                unchanged=result.unchanged), "info")
        return redirect(url_for("admin.offices_page"))
    rows, errors, ready = [], [], None
    status = 200
    if request.method == "POST":
        if not upload.validate_on_submit() or not upload.file.data:
            abort(400)
        raw = upload.file.data.read(MAX_UPLOAD + 1)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = None
        if len(raw) > MAX_UPLOAD:
            errors = [_("The file is larger than %(n)s bytes.", n=MAX_UPLOAD)]
        elif text is None:
            errors = [_("The file is not UTF-8 text.")]
        else:
            rows, line_errors = check_offices_file(io.StringIO(text, newline=""))
            if not line_errors and allowed is not None:
                try:
                    office_admin.check_scope_file(io.StringIO(text, newline=""), allowed)
                except ImportFailed as exc:
                    line_errors = exc.errors
            errors = [str(e) for e in line_errors]
            if not errors:
                ready = ConfirmUploadForm(prefix="c", formdata=None)
                ready.content.data = text
        status = 400 if errors else 200
    return render_template("admin/offices_import.html", upload=upload, errors=errors,
                           rows=rows, confirm=ready), status
