"""What the public sees, from the results area: publishing a comment's reply (and, if the
head chooses, the masked comment) on the office's public board, and switching an office's
public results on or off. Routes on the admin blueprint; the comments page includes the
publishing controls as a partial (``admin/_publish.html``)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from admin.auth import next_target, user
from admin.forms import ActionForm
from admin.views import bp
from core.errors import Invalid
from core.extensions import db
from core.models import CommentHandling
from core.services import public, scope


@bp.app_template_global()
def comment_publication(response_id: int) -> CommentHandling | None:
    """The handling record of a comment (already loaded by the comments page's query: no
    extra query), for the publishing controls."""
    return db.session.get(CommentHandling, response_id)


@bp.post("/comments/<int:response_id>/publish")
def publish_comment(response_id: int):
    target = next_target(url_for("admin.comments"))
    scope.require(user(), "handle_comments")
    if not ActionForm().validate_on_submit():
        raise Invalid("csrf", _("The page has expired. Please try again."))
    reply_public = request.form.get("reply_public") == "y"
    comment_public = request.form.get("comment_public") == "y"
    public.publish(user(), response_id, reply_public, comment_public)
    flash(_("The reply is now public.") if reply_public
          else _("The reply is no longer public."), "info")
    return redirect(target)


@bp.get("/public-results")
def public_results_page():
    scope.require(user(), "manage_public")
    return render_template("admin/public_results.html",
                           offices=scope.offices_in_scope(user()), action=ActionForm())


@bp.post("/public-results/<int:office_id>")
def switch_public_results(office_id: int):
    scope.require(user(), "manage_public")
    if not ActionForm().validate_on_submit():
        raise Invalid("csrf", _("The page has expired. Please try again."))
    show = request.form.get("public") == "y"
    office = public.set_public_results(user(), office_id, show)
    flash(_("The results of %(name)s are now public.", name=office.name) if show
          else _("The results of %(name)s are no longer public.", name=office.name), "info")
    return redirect(url_for("admin.public_results_page"))
