"""The official report in the results area: edit parts II and III (and this report's signer
and recipients), finalise ("Chốt báo cáo"), download a finalised version's exact bytes.
Routes on the admin blueprint (registered by importing this module in admin/__init__.py)."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from admin.auth import user
from admin.forms import ActionForm
from admin.views import _locale, bp
from core.errors import DomainError
from core.http_errors import status_of
from core.services import report_versions, scope
from core.services.official_report import letterhead_for


def _office_period(code: str, label: str):
    u = user()
    office = scope.office_in_scope(u, code)  # 404 outside the scope
    return office, report_versions.check_period(label)


@bp.app_template_global("report_status")
def report_status(data: dict) -> dict:
    """For the dashboard's partial: the versions of the dashboard's report and what changed
    since the last one."""
    from core.periods import parse_period
    from core.services.official_report import office_by_code

    office = office_by_code(data["office"]["code"])
    return report_versions.status(office, parse_period(data["month"]), data["report"], user())


@bp.app_template_global("audit_action")
def audit_action(action: str) -> str:
    from core.services.labels import audit_action_label

    return audit_action_label(action)


@bp.app_template_global("audit_details")
def audit_details(details: dict | None) -> str:
    from core.services.labels import audit_details_text

    return audit_details_text(details)


@bp.app_template_global("priority_geometry")
def priority_geometry(pri: dict) -> dict:
    from core.services.priority_chart import geometry

    return geometry(pri, 720, 360)


@bp.app_template_global("priority_note")
def priority_note(pri: dict) -> str:
    from core.services.report_sections import priority_note as note

    return note(pri)


@bp.app_template_global("peers_lines")
def peers_lines(peers: dict) -> list[str]:
    from core.services.report_sections import peers_lines as lines

    return lines(peers)


@bp.route("/report/<code>/<period>/edit", methods=["GET", "POST"])
def report_edit(code: str, period: str):
    """Parts II and III, signer and recipients of one report, then save or finalise."""
    office, p = _office_period(code, period)
    u = user()
    scope.require(u, "finalise_reports")
    lang = _locale()
    data = report_versions.report_data(office, p, lang)
    texts, overrides, edited = report_versions.texts_for(office, p, data, lang)
    form = ActionForm()
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        values = {k: request.form.get(k, "") for k in report_versions.OVERRIDE_KEYS}
        try:
            report_versions.save_text(u, office, p, data["report"]["instrument"],
                                      assessment=request.form.get("assessment", ""),
                                      proposals=request.form.get("proposals", ""),
                                      overrides=values)
            if request.form.get("action") == "finalise":
                row = report_versions.finalise(u, office, p, lang)
                flash(_("Version %(n)s of the report has been finalised.", n=row.version),
                      "info")
                return redirect(url_for("admin.index", office=office.code,
                                        month=p.last if p.is_month else None))
        except DomainError as exc:
            errors, status = exc.fields or {"form": exc.message}, status_of(exc)
        else:
            flash(_("The report's text has been saved."), "info")
            return redirect(url_for("admin.report_edit", code=office.code, period=p.label))
    head = letterhead_for(office, overrides)
    return render_template("admin/report_edit.html", office=office, period=p, data=data,
                           texts=texts, overrides=overrides, edited=edited, head=head,
                           form=form, errors=errors,
                           versions=report_versions.versions(office, p)), status


@bp.get("/report/<code>/<period>/v<int:number>.pdf")
def report_version_pdf(code: str, period: str, number: int):
    """A finalised version: the very bytes frozen when it was finalised."""
    office, p = _office_period(code, period)
    u = user()
    scope.require(u, "export")
    row = report_versions.get_version(office, p, number)
    report_versions.record_version_download(u.username, row, office)
    name = f"sipas-{office.code}-{p.label}-v{row.version}.pdf"
    return Response(row.pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "X-Content-SHA256": row.sha256})
