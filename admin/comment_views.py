"""The comments page at scale (:mod:`core.services.comment_search`): filters, search, paging,
assignment, theme tags and status changes of many comments at once."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from admin.auth import next_target, user
from admin.forms import STATUS_LABELS, ActionForm, CommentForm, ContactRequestForm
from admin.views import bp
from core.errors import Invalid
from core.i18n import locale_code
from core.services import comment_search, feedback, scope
from core.services.common import get_instrument
from core.services.reports import check_month
from core.timeutil import last_complete_month


def _themes() -> list[tuple[str, str]]:
    """(code, label) of the default instrument's comment themes, in the reader's language."""
    instrument = get_instrument(current_app.config["DEFAULT_INSTRUMENT"])
    return [(t.code, t.label.get(locale_code())) for t in instrument.comment_themes]


def _with_param(url: str, **params: object) -> str:
    """``url`` with these query parameters set (fragment dropped)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k not in params]
    query += [(k, str(v)) for k, v in params.items()]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


@bp.get("/comments")
def comments():
    u = user()
    code = request.args.get("office")
    office = scope.office_in_scope(u, code) if code else scope.home_office(u)
    themes = _themes()
    f = comment_search.filters_from(request.args, [c for c, _label in themes])
    raw_month = request.args.get("month")
    if raw_month is None:  # the default; an empty month means every month
        f.month = last_complete_month()
    elif raw_month and f.month is None:
        check_month(raw_month)  # a malformed month is a 400, as on every page
    # the month of the contact requests and of the counts: the chosen one, else the last
    month = f.month or last_complete_month()
    readable = scope.may_read_comments(u, office.id)
    result = comment_search.search(u, office, f) if readable else None
    forms = {}
    for c in result.items if result else ():
        form = CommentForm(prefix=f"c{c.response_id}", formdata=None)
        form.status.data = c.status
        form.internal_note.data = c.internal_note
        form.public_reply.data = c.public_reply
        forms[c.response_id] = form
    requests = feedback.month_requests(office, month, f.status) if readable else []
    request_forms = {}
    for r in requests:
        rform = ContactRequestForm(prefix=f"r{r.id}", formdata=None)
        rform.status.data = r.status
        rform.internal_note.data = r.internal_note
        request_forms[r.id] = rform
    if result is None:  # counts only, for everyone who reads the office
        counts = comment_search.status_counts(u, office, comment_search.Filters(month=f.month))
        result = comment_search.CommentPage([], sum(counts.values()), 1, 1, counts)
    args = {k: v for k, v in request.args.items() if k not in ("page", "saved")}
    return render_template(
        "admin/comments.html", office=office, month=month, f=f, result=result,
        forms=forms, requests=requests, request_forms=request_forms, readable=readable,
        action=ActionForm(), status_labels=STATUS_LABELS, themes=themes,
        theme_labels=dict(themes), ages=comment_search.AGES,
        people=comment_search.assignable_users(office) if readable else [],
        saved=request.args.get("saved", type=int), args=args,
        request_summary=feedback.request_counts(office, month),
        contact_days=current_app.config["RETENTION_CONTACT_DAYS"],
        offices=scope.offices_in_scope(u))


def _person(raw: str | None) -> int | None:
    if not raw:
        return None
    if not raw.isdigit():
        raise Invalid("invalid", _("The comment was not updated."),
                      {"assignee": _("This person cannot handle these comments.")})
    return int(raw)


@bp.post("/comments/<int:response_id>")
def handle_comment(response_id: int):
    target = next_target(url_for("admin.comments"))
    u = user()
    scope.require(u, "handle_comments")
    prefix = f"c{response_id}"
    form = CommentForm(prefix=prefix)
    if not form.validate_on_submit():
        raise Invalid("invalid", _("The comment was not updated."),
                      {k: "; ".join(map(str, v)) for k, v in form.errors.items()})
    # theme tags and the assignee come with the page's form; a form without them (an older
    # page, a script) leaves them as they are
    themes = (request.form.getlist(f"{prefix}-themes")
              if f"{prefix}-themes-shown" in request.form else None)
    assign = f"{prefix}-assignee" in request.form
    assignee = _person(request.form.get(f"{prefix}-assignee")) if assign else None
    if assign:
        comment_search.check_assignee(u, response_id, assignee)
    feedback.handle_comment(u, response_id, form.status.data, form.internal_note.data,
                            form.public_reply.data, themes=themes)
    if assign:
        comment_search.update_many(u, [response_id], assign=True, assignee_id=assignee)
    if target.startswith(url_for("admin.comments")):
        # the confirmation is shown inside the saved comment, where the reader is
        return redirect(_with_param(target, saved=response_id) + f"#comment-{response_id}")
    flash(_("The comment has been updated."), "info")
    return redirect(target)


@bp.post("/comments/bulk")
def comments_bulk():
    target = next_target(url_for("admin.comments"))
    u = user()
    scope.require(u, "handle_comments")
    if not ActionForm().validate_on_submit():
        abort(400)
    ids = [int(v) for v in request.form.getlist("ids") if v.isdigit()]
    status = request.form.get("status") or None
    raw = request.form.get("assignee", "")
    assign = raw != ""  # "" leaves the assignee; "none" takes it away
    n = comment_search.update_many(u, ids, status=status, assign=assign,
                                   assignee_id=None if raw in ("", "none") else _person(raw))
    flash(_("Comments updated: %(n)s.", n=n), "info")
    return redirect(target)
