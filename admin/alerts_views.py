"""The e-mail alerts settings screen (:mod:`core.services.alerts`): each head chooses, per
office of their scope, which alerts to receive and where."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from admin.auth import user
from admin.forms import ActionForm
from admin.views import bp
from core.errors import DomainError
from core.services import alerts, scope

KIND_LABELS = {
    "digest": _l("Daily digest of the answers and comments of each day, once the day is "
                 "released (counts only)"),
    "offline": _l("A desk tablet is not connected during opening hours"),
    "report": _l("The report of last month is ready for review"),
    "held": _l("Held-back answers wait for review"),
}


@bp.route("/alerts", methods=["GET", "POST"])
def alerts_page():
    u = user()
    scope.require(u, "alerts")
    code = request.values.get("office")
    office = scope.office_in_scope(u, code) if code else scope.home_office(u)
    form = ActionForm()
    errors: dict[str, str] = {}
    mine = alerts.subscriptions_of(u)
    sub = mine.get(office.id)
    email = sub.email if sub else ""
    chosen = {k for k in alerts.KINDS if sub is not None and getattr(sub, k)}
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        email = request.form.get("email", "")
        chosen = set(request.form.getlist("kinds"))
        try:
            alerts.save_subscription(u, office, email, chosen)
        except DomainError as exc:
            errors = exc.fields
        else:
            flash(_("The alerts have been saved."), "info")
            return redirect(url_for("admin.alerts_page", office=office.code))
    offices = dict((o.id, o) for o, _depth in scope.offices_in_scope(u))
    return render_template(
        "admin/alerts.html", office=office, form=form, email=email, chosen=chosen,
        errors=errors, kinds=KIND_LABELS, offices=scope.offices_in_scope(u),
        mine=[(offices[oid], s) for oid, s in mine.items() if oid in offices],
        mail_ready=bool(current_app.config.get("MAIL_URL"))), 400 if errors else 200
