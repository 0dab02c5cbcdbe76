"""Paper forms in the browser: the blank A4 questionnaire, the CSV/XLSX template, an upload
with a preview, the import batches and their undo.

Each action is its command's twin, through the same service (:mod:`core.services.imports`):
a confirmed upload is ``flask responses import`` (the same rows, checks, batch and audit event
``imports.import``, with the user's name as actor), an undo is ``flask imports undo``. Scope:
administrators anywhere; office heads for the offices of their subtree (a row of another
office is an unknown office; batches with an office outside are not listed); viewers see the
batches and download the blank form and the templates, nothing more.
"""

from __future__ import annotations

import io

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField
from wtforms.validators import DataRequired, Length, Optional

from admin.auth import user
from admin.forms import ActionForm
from admin.views import _locale, bp
from core.errors import DomainError
from core.services import imports, paper_uploads, scope
from core.services.common import get_instrument
from core.services.offices import ImportFailed
from core.services.paper_form_pdf import blank_form_pdf

#: what an upload may be (the same readers as the command: CSV, "Unicode text", XLSX)
EXTENSIONS = ["csv", "txt", "xlsx"]
STATE_LABELS = {"active": _l("in effect"), "undone": _l("undone"), "replaced": _l("replaced")}


class UploadForm(FlaskForm):
    file = FileField(_l("Paper file (CSV or XLSX)"),
                     validators=[FileRequired(_l("Choose a file.")),
                                 FileAllowed(EXTENSIONS, _l("The file must be CSV or XLSX."))])


class ConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired(), Length(max=64)])
    allow_overlap = BooleanField(_l("Import anyway: these are other forms with the same "
                                    "answers"))
    replace = SelectField(_l("Replace an earlier batch"), validators=[Optional()],
                          validate_choice=False)


def _instrument():
    return get_instrument(current_app.config["DEFAULT_INSTRUMENT"])


def _office_ids() -> set[int] | None:
    return scope.visible_office_ids(user())


@bp.get("/paper")
def paper():
    u = user()
    batches = imports.list_batches(_office_ids())
    return render_template(
        "admin/paper.html", batches=batches,
        codes={b.id: imports.office_codes(b) for b in batches}, state_labels=STATE_LABELS,
        form=UploadForm(), action=ActionForm(), can_import=scope.can(u, "import_paper"),
        offices=scope.offices_in_scope(u), columns=imports.template_header(_instrument()))


@bp.get("/paper/form.pdf")
def paper_form():
    code = request.args.get("office") or None
    if code:
        scope.office_in_scope(user(), code)  # 404 outside the user's scope
    payload = blank_form_pdf(_instrument(), _locale(), code)
    name = f"sipas-phieu-giay{'-' + code if code else ''}.pdf"
    return Response(payload, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/paper/template.<any(csv, xlsx):fmt>")
def paper_template(fmt: str):
    instrument = _instrument()
    if fmt == "csv":
        payload, mime = imports.template_csv(instrument), "text/csv; charset=utf-8"
    else:
        from core.services.exports import XLSX_MIME

        payload, mime = imports.template_xlsx(instrument), XLSX_MIME
    return Response(payload, mimetype=mime, headers={
        "Content-Disposition": f'attachment; filename="sipas-phieu-giay-mau.{fmt}"'})


def _preview(upload: paper_uploads.Upload, form: ConfirmForm | None = None, status: int = 200):
    """Run the import without storing anything and show what it would do."""
    outcome = imports.import_batch(io.BytesIO(upload.data), upload.file_name, _instrument(),
                                   actor=user().username, office_ids=_office_ids(),
                                   dry_run=True)
    if form is None:
        form = ConfirmForm(formdata=None)
        form.token.data = upload.token
    form.replace.choices = [("", _("No: add a new batch"))] + [
        (str(o.batch_id), _("Batch %(id)s (%(file)s)", id=o.batch_id, file=o.file_name))
        for o in outcome.overlaps]
    return render_template("admin/paper_preview.html", outcome=outcome, confirm=form,
                           action=ActionForm(), token=upload.token), status


@bp.post("/paper/preview")
def paper_preview():
    u = user()
    scope.require(u, "import_paper")
    form = UploadForm()
    if not form.validate_on_submit():
        batches = imports.list_batches(_office_ids())
        return render_template(
            "admin/paper.html", batches=batches,
            codes={b.id: imports.office_codes(b) for b in batches}, state_labels=STATE_LABELS,
            form=form, action=ActionForm(), can_import=True,
            offices=scope.offices_in_scope(u),
            columns=imports.template_header(_instrument())), 400
    file = form.file.data
    token = paper_uploads.keep(u.id, _base_name(file.filename), file.read())
    return _preview(paper_uploads.load(token, u.id))


def _base_name(name: str | None) -> str:
    """The file's own name as the browser gave it: no folders, no control characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:255] or "upload.csv"


@bp.post("/paper/import")
def paper_import():
    u = user()
    scope.require(u, "import_paper")
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    upload = paper_uploads.load(form.token.data, u.id)
    try:
        replace = int(form.replace.data) if form.replace.data else None
    except ValueError:
        abort(400)
    try:
        outcome = imports.import_batch(io.BytesIO(upload.data), upload.file_name,
                                       _instrument(), actor=u.username,
                                       office_ids=_office_ids(), replace=replace,
                                       allow_overlap=bool(form.allow_overlap.data))
    except (ImportFailed, imports.ProbableReimport) as exc:
        if isinstance(exc, imports.ProbableReimport):
            flash(exc.message, "error")
        return _preview(upload, form, 400)
    except DomainError as exc:
        flash(exc.message, "error")
        return _preview(upload, form, 400)
    paper_uploads.discard(upload.token)
    if outcome.duplicate_of is not None:
        flash(_("The same %(rows)s rows are already stored as batch %(batch)s; nothing was "
                "stored.", rows=outcome.rows, batch=outcome.duplicate_of), "info")
    else:
        flash(_("Batch %(batch)s imported: %(n)s responses.", batch=outcome.batch_id,
                n=outcome.stored), "info")
    return redirect(url_for("admin.paper"))


@bp.post("/paper/cancel")
def paper_cancel():
    scope.require(user(), "import_paper")
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    paper_uploads.discard(form.token.data)
    flash(_("The upload was cancelled; nothing was stored."), "info")
    return redirect(url_for("admin.paper"))


@bp.post("/paper/batches/<int:batch_id>/undo")
def paper_undo(batch_id: int):
    u = user()
    scope.require(u, "import_paper")
    if not ActionForm().validate_on_submit():
        abort(400)
    result = imports.undo_batch(batch_id, actor=u.username, office_ids=_office_ids())
    flash(_("Batch %(batch)s undone: %(n)s response(s) removed (%(first)s to %(last)s).",
            batch=result.batch_id, n=result.removed, first=result.first_month,
            last=result.last_month), "info")
    return redirect(url_for("admin.paper"))
