"""Monthly results for office heads and city administrators."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin import charts
from admin.auth import guard, next_target, no_store, referrer_target, sign_in, sign_out, user
from admin.forms import (
    CHANNEL_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    ActionForm,
    ContactRequestForm,
    LoginForm,
    PasswordForm,
    TokenForm,
    UserForm,
)
from core.errors import Conflict, DomainError, Invalid
from core.extensions import db
from core.http_errors import status_of
from core.models import User
from core.services import (
    accounts,
    breakdowns,
    comment_search,
    exports,
    feedback,
    kiosks,
    review,
    scope,
    signin_throttle,
    targets,
)
from core.services.auditlog import recent_events
from core.services.common import get_instrument
from core.services.dashboard import CHILD_SORTS, build_dashboard
from core.services.mixing import pending_counts
from core.services.offices import descendant_ids
from core.services.pdf_report import office_report_pdf
from core.services.period_choices import period_choices
from core.services.reports import check_month, check_period
from core.timeutil import last_complete_month

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates",
               static_folder="static")
bp.before_request(guard)
bp.after_request(no_store)


def _vtime(value) -> str:
    """Date and time (Vietnam) for staff-facing logs: dd/MM/yyyy HH:mm."""
    from core.timeutil import VN_TZ

    return "—" if value is None else value.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")


bp.add_app_template_filter(_vtime, "vtime")


@bp.context_processor
def _labels() -> dict:
    return {"channel_labels": CHANNEL_LABELS, "role_labels": ROLE_LABELS}


def _client() -> str:
    return request.remote_addr or "unknown"


def _office_and_month():
    """The office (in scope) and month asked for, defaulting to the user's own office and
    the last complete month. Raises DomainError 404/400."""
    u = user()
    code = request.args.get("office")
    office = scope.office_in_scope(u, code) if code else scope.home_office(u)
    if not scope.may_see(u, office.id):
        abort(404)
    month = check_month(request.args.get("month") or last_complete_month())
    return office, month


def _office_and_period():
    """The office (in scope) and period asked for (``period``, else ``month``: any label of
    :mod:`core.periods`), defaulting to the user's own office and the last complete month.
    Raises DomainError 404/400."""
    u = user()
    code = request.args.get("office")
    office = scope.office_in_scope(u, code) if code else scope.home_office(u)
    if not scope.may_see(u, office.id):
        abort(404)
    label = request.args.get("period") or request.args.get("month") or last_complete_month()
    return office, check_period(label)


# --- sign-in ---------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
def login():
    target = next_target()
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        try:
            u = accounts.authenticate(form.username.data, form.password.data, _client())
        except DomainError as exc:
            error, status = exc.message, status_of(exc)
        else:
            sign_in(u)
            if u.must_change_password:
                return redirect(url_for("admin.password"))
            return redirect(target)
    elif request.method == "POST":
        status = 400
    return render_template("admin/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    sign_out(user())
    flash(_("You have signed out."), "info")
    return redirect(url_for("admin.login"))


@bp.route("/password", methods=["GET", "POST"])
def password():
    form = PasswordForm()
    u = user()
    if form.validate_on_submit():
        try:
            accounts.change_password(u, form.current.data, form.new.data)
        except DomainError as exc:
            for name, problem in exc.fields.items():
                getattr(form, name).errors = [*getattr(form, name).errors, problem]
        else:
            sign_in(u)  # every session of the user ended; this browser gets a new one
            flash(_("Your password has been changed."), "info")
            return redirect(url_for("admin.index"))
    status = 400 if form.errors else 200
    return render_template("admin/password.html", form=form,
                           forced=u.must_change_password), status


# --- dashboard -------------------------------------------------------------------------

@bp.get("/")
def index():
    office, period = _office_and_period()
    sort = request.args.get("sort", "rank")
    if sort not in CHILD_SORTS:
        sort = "rank"
    data = build_dashboard(office, period, locale=_locale(), child_sort=sort)
    by = request.args.get("by") or None
    breakdown = (breakdowns.breakdown(office, period, by, data["instrument"].id, _locale())
                 if by else None)
    # comments are handled month by month: a longer period shows its last month's
    month = period.last
    readable = scope.may_read_comments(user(), office.id)  # else counts only
    return render_template("admin/dashboard.html", d=data, sort=sort, by=by,
                           breakdown=breakdown,
                           breakdown_fields=breakdowns.fields(data["instrument"]),
                           period_choices=period_choices(last_complete_month()),
                           comments_month=month,
                           offices=scope.offices_in_scope(user()),
                           trend_chart=charts.trend_chart(data["trend"], data["instrument"]),
                           comments=comment_search.month_summary(user(), office, month),
                           requests=feedback.request_counts(office, month),
                           open_comments=(comment_search.search(
                               user(), office, comment_search.Filters(month=month,
                                                                      open_only=True),
                               per_page=5).items if readable else []),
                           held=review.waiting_count(office),
                           may_review=scope.can(user(), "review_held"),
                           status_labels=STATUS_LABELS)


def _locale() -> str:
    from core.i18n import locale_code

    return locale_code()


# --- comments --------------------------------------------------------------------------

# the comments page and its handling form: admin/comment_views.py


@bp.post("/comments/<int:response_id>/withdraw")
def withdraw_comment(response_id: int):
    """A citizen withdraws their anonymous comment at the office: the text goes, the
    scores stay."""
    target = next_target(url_for("admin.comments"))
    scope.require(user(), "handle_comments")
    if not ActionForm().validate_on_submit():
        abort(400)
    feedback.withdraw_comment(response_id, actor=user().username, user=user())
    flash(_("The comment has been withdrawn."), "info")
    return redirect(target)


@bp.post("/requests/<int:request_id>")
def handle_request(request_id: int):
    target = next_target(url_for("admin.comments"))
    scope.require(user(), "handle_comments")
    form = ContactRequestForm(prefix=f"r{request_id}")
    if not form.validate_on_submit():
        raise Invalid("invalid", _("The comment was not updated."),
                      {k: "; ".join(map(str, v)) for k, v in form.errors.items()})
    feedback.handle_request(user(), request_id, form.status.data, form.internal_note.data)
    flash(_("The comment has been updated."), "info")
    return redirect(target)


@bp.post("/requests/<int:request_id>/withdraw")
def withdraw_request(request_id: int):
    """A citizen withdraws their contact request (comment and contact) at the office."""
    target = next_target(url_for("admin.comments"))
    scope.require(user(), "handle_comments")
    if not ActionForm().validate_on_submit():
        abort(400)
    feedback.withdraw_request(request_id, actor=user().username, user=user())
    flash(_("The comment and the contact details have been deleted."), "info")
    return redirect(target)


# --- exports ---------------------------------------------------------------------------

EXPORTS = {
    ("report", "pdf"): "application/pdf",
    ("criteria", "xlsx"): exports.XLSX_MIME,
    ("criteria", "csv"): "text/csv; charset=utf-8",
    ("responses", "xlsx"): exports.XLSX_MIME,
    ("responses", "csv"): "text/csv; charset=utf-8",
    ("breakdown", "xlsx"): exports.XLSX_MIME,
    ("breakdown", "csv"): "text/csv; charset=utf-8",
}


@bp.get("/exports/<code>/<month>/<kind>.<fmt>")
def export(code: str, month: str, kind: str, fmt: str):
    u = user()
    scope.require(u, "export")
    if (kind, fmt) not in EXPORTS:
        abort(404)
    office = scope.office_in_scope(u, code)
    period = check_period(month)  # any period label (the route's name is historical)
    month = period.label
    lang = _locale()
    rows: int | None = None  # a table's data rows (the PDF has none)
    if kind == "report":
        payload = office_report_pdf(office, month, lang)
    elif kind == "criteria":
        data = build_dashboard(office, period, locale=lang)
        payload = exports.criteria_table(data, fmt, lang)
        rows = len(exports.criteria_rows(data)[1])
    elif kind == "breakdown":
        by = request.args.get("by") or "channel"
        table = breakdowns.breakdown(office, period, by, locale=lang)
        payload = exports.breakdown_table(table, office, month, fmt)
        rows = len(table["groups"])
    else:
        # comment texts only for those who may read them; contact data never
        payload, rows = exports.raw_responses(
            office, list(period.months), fmt, lang,
            with_comments=scope.may_read_comments(u, office.id))
    exports.record_download(u.username, office, kind, fmt, month, rows=rows)
    name = f"sipas-{office.code}-{month}-{kind}.{fmt}"
    return Response(payload, mimetype=EXPORTS[(kind, fmt)],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- personal API tokens ---------------------------------------------------------------

@bp.route("/tokens", methods=["GET", "POST"])
def tokens():
    u = user()
    form = TokenForm()
    created = None
    if form.validate_on_submit():
        created = accounts.create_token(u, form.label.data, actor=u.username).secret
        form = TokenForm(formdata=None)
    # administrators also see (and may revoke) the tokens of every account they manage
    return render_template("admin/tokens.html", form=form, created=created,
                           tokens=accounts.tokens_of(u), action=ActionForm(),
                           others=[t for t in accounts.list_tokens(u) if t.user_id != u.id])


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    target = referrer_target(url_for("admin.tokens"))
    if not ActionForm().validate_on_submit():
        abort(400)
    accounts.revoke_token(token_id, actor=user(), actor_name=user().username)
    flash(_("The token has been revoked."), "info")
    return redirect(target)


# --- administrators: users, targets, audit -------------------------------------------

@bp.route("/users", methods=["GET", "POST"])
def users():
    scope.require(user(), "manage_users")
    offices = scope.offices_in_scope(user())
    form = UserForm(offices)
    created = None
    status = 200
    if form.validate_on_submit():
        try:
            new_user, temp = accounts.create_user(form.username.data, form.role.data,
                                                  form.office.data or None, None,
                                                  actor=user().username)
        except DomainError as exc:
            for name, problem in exc.fields.items():
                getattr(form, name).errors = [*getattr(form, name).errors, problem]
            status = 400
        else:
            created = (new_user.username, temp)
            form = UserForm(offices, formdata=None)
    elif request.method == "POST":
        status = 400
    return _users_page(form, created=created), status


def _users_page(form: UserForm, created=None, reset=None) -> str:
    return render_template("admin/users.html", form=form, created=created, reset=reset,
                           users=accounts.list_users(), action=ActionForm(),
                           locked=signin_throttle.locked_accounts())


@bp.post("/users/<int:user_id>/<any(disable, enable, reset, unlock):op>")
def user_action(user_id: int, op: str):
    scope.require(user(), "manage_users")
    if not ActionForm().validate_on_submit():
        abort(400)
    target = db.session.get(User, user_id)
    if target is None:
        abort(404)
    if target.id == user().id and op in ("disable", "enable"):
        raise Conflict("invalid", _("You cannot disable your own account."))
    if op == "reset":
        # shown in the page itself, never in a (readable) session cookie
        temp = accounts.reset_password(target, actor=user().username)
        return _users_page(UserForm(scope.offices_in_scope(user())),
                           reset=(target.username, temp))
    if op == "unlock":
        accounts.unlock(target, actor=user().username)
        flash(_("%(user)s can sign in again from every address.", user=target.username),
              "info")
        return redirect(url_for("admin.users"))
    accounts.set_active(target, op == "enable", actor=user().username)
    flash(_("The account has been updated."), "info")
    return redirect(url_for("admin.users"))


@bp.route("/targets", methods=["GET", "POST"])
def targets_page():
    u = user()
    scope.require(u, "manage_targets")
    code = request.values.get("office")
    office = scope.office_in_scope(u, code) if code else scope.home_office(u)
    try:
        year = int(request.values.get("year") or last_complete_month()[:4])
    except ValueError:
        abort(400)
    instrument = get_instrument(current_app.config["DEFAULT_INSTRUMENT"])
    form = ActionForm()
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        entries = {key[2:]: value for key, value in request.form.items()
                   if key.startswith("t_")}
        operators = {key[2:]: value for key, value in request.form.items()
                     if key.startswith("o_")}
        try:
            targets.save_targets(office, year, entries, instrument, actor=u.username,
                                 operators=operators)
        except DomainError as exc:
            errors = exc.fields
        else:
            flash(_("The targets have been saved."), "info")
            return redirect(url_for("admin.targets_page", office=office.code, year=year))
    return render_template("admin/targets.html", office=office, year=year, form=form,
                           instrument=instrument, own=targets.own_targets(office, year),
                           operators=targets.own_operators(office, year),
                           default_operator=targets.default_operator,
                           effective=targets.targets_for(office, year), errors=errors,
                           offices=scope.offices_in_scope(u)), 400 if errors else 200


@bp.get("/audit")
def audit():
    scope.require(user(), "view_audit")
    return render_template("admin/audit.html",
                           events=recent_events(request.args.get("action") or None))


# --- desk tablets (kiosks) -------------------------------------------------------------

KIOSK_LABELS = {"pending": _l("waiting for activation"), "active": _l("active"),
                "paused": _l("paused"), "revoked": _l("revoked")}


def _kiosks_in(office) -> list:
    """Kiosks of ``office`` and its subtree (the office is already within the user's scope)."""
    return kiosks.list_kiosks(descendant_ids(office.id))


@bp.get("/kiosks")
def kiosks_page():
    u = user()
    code = request.args.get("office")
    office = scope.office_in_scope(u, code) if code else scope.home_office(u)
    pending = sum(pending_counts(descendant_ids(office.id)).values())
    return render_template("admin/kiosks.html", office=office, kiosks=_kiosks_in(office),
                           pending=pending,
                           offices=scope.offices_in_scope(u), kiosk_labels=KIOSK_LABELS,
                           can_manage=scope.can(u, "manage_kiosks"), action=ActionForm())


