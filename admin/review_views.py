"""The held-back answers' review queue (:mod:`core.services.review`): heads and
administrators release a group into the figures or discard it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from admin.auth import user
from admin.forms import ActionForm
from admin.views import bp
from core.services import review, scope


def _office():
    u = user()
    code = request.values.get("office")
    return scope.office_in_scope(u, code) if code else scope.home_office(u)


@bp.get("/held")
def held():
    u = user()
    scope.require(u, "review_held")
    office = _office()
    return render_template("admin/held.html", office=office, groups=review.held_groups(office),
                           waiting=review.waiting_count(office),
                           mixing=review.pending_held_count(office),
                           limit=review.GROUP_LIMIT, action=ActionForm(),
                           offices=scope.offices_in_scope(u))


@bp.post("/held/<any(release, discard):op>")
def held_action(op: str):
    u = user()
    scope.require(u, "review_held")
    office = _office()
    if not ActionForm().validate_on_submit():
        abort(400)
    one = request.form.get("one")
    keys = [one] if one else request.form.getlist("group")
    if op == "release":
        n = review.release(u, keys)
        message = _("Answers released into the figures: %(n)s.", n=n)
    else:
        n = review.discard(u, keys)
        message = _("Answers discarded (kept out of the figures): %(n)s.", n=n)
    flash(message if n else _("These answers had already been reviewed; nothing changed."),
          "info")
    return redirect(url_for("admin.held", office=office.code))
