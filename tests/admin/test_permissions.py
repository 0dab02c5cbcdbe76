"""The permission matrix: every admin route x every role, scoped on the server.

Users: ``city`` (administrator), ``bd`` (head of BD, which contains BD-KM and BD-DB),
``stp`` (head of STP), ``kmview`` (viewer of BD-KM), and anonymous. An office outside the
user's scope is 404 (its existence is not revealed); an action the role lacks is 403.
"""

from __future__ import annotations

import pytest

from core.services.accounts import create_token
from tests.admin import fixtures as admin_fixtures
from tests.admin import setup_matrix
from tests.admin.fixtures import login

world = admin_fixtures.world

ANON = "anonymous"
ROLES = ("city", "bd", "stp", "kmview", ANON)


def _cases(w: dict) -> list[tuple[str, str, str, dict[str, int]]]:
    """(endpoint, method, url, expected status per user)."""
    m = w["month"]
    km, stp = w["km_comment"], w["stp_comment"]
    bd_id = w["users"]["bd"].id
    cases = []

    def add(endpoint, method, url, city, bd, stp_, kmview, anon=None):
        anon = anon if anon is not None else (302 if method == "GET" else 401)
        cases.append((endpoint, method, url, {"city": city, "bd": bd, "stp": stp_,
                                              "kmview": kmview, ANON: anon}))

    setup_matrix.add_cases(w, add)  # the setup pages (offices, tablets, QR, keys) first

    add("admin.index", "GET", f"/admin/?month={m}", 200, 200, 200, 200)
    add("admin.index", "GET", f"/admin/?office=BD&month={m}", 200, 200, 404, 404)
    add("admin.index", "GET", f"/admin/?office=BD-KM&month={m}", 200, 200, 404, 200)
    add("admin.index", "GET", f"/admin/?office=STP&month={m}", 200, 404, 200, 404)
    add("admin.index", "GET", f"/admin/?office=HN&month={m}", 200, 404, 404, 404)
    add("admin.comments", "GET", f"/admin/comments?office=BD&month={m}", 200, 200, 404, 404)
    add("admin.comments", "GET", f"/admin/comments?office=BD-KM&month={m}", 200, 200, 404,
        200)
    add("admin.comments", "GET", f"/admin/comments?office=STP&month={m}", 200, 404, 200, 404)
    add("admin.handle_comment", "POST", f"/admin/comments/{km}", 302, 302, 404, 403)
    add("admin.handle_comment", "POST", f"/admin/comments/{stp}", 302, 404, 302, 403)
    add("admin.publish_comment", "POST", f"/admin/comments/{km}/publish", 302, 302, 404, 403)
    add("admin.publish_comment", "POST", f"/admin/comments/{stp}/publish", 302, 404, 302, 403)
    kr, sr = w["km_request"], w["stp_request"]
    add("admin.handle_request", "POST", f"/admin/requests/{kr}", 302, 302, 404, 403)
    add("admin.handle_request", "POST", f"/admin/requests/{sr}", 302, 404, 302, 403)
    for kind, fmt in (("report", "pdf"), ("criteria", "xlsx"), ("criteria", "csv"),
                      ("responses", "xlsx"), ("responses", "csv")):
        add("admin.export", "GET", f"/admin/exports/BD-KM/{m}/{kind}.{fmt}", 200, 200, 404,
            200)
        add("admin.export", "GET", f"/admin/exports/STP/{m}/{kind}.{fmt}", 200, 404, 200, 404)
    add("admin.export", "GET", f"/admin/exports/HN/{m}/criteria.csv", 200, 404, 404, 404)
    q = f"{m[:4]}-Q{(int(m[5:7]) - 1) // 3 + 1}"  # every period, not only months
    add("admin.index", "GET", f"/admin/?office=BD-KM&period={q}&by=channel", 200, 200, 404,
        200)
    add("admin.index", "GET", f"/admin/?office=STP&period={m[:4]}", 200, 404, 200, 404)
    for kind, fmt in (("report", "pdf"), ("criteria", "xlsx"), ("responses", "csv"),
                      ("breakdown", "xlsx"), ("breakdown", "csv")):
        add("admin.export", "GET", f"/admin/exports/BD-KM/{q}/{kind}.{fmt}", 200, 200, 404,
            200)
        add("admin.export", "GET", f"/admin/exports/STP/{q}/{kind}.{fmt}", 200, 404, 200, 404)
    add("admin.kiosks_page", "GET", "/admin/kiosks?office=BD-KM", 200, 200, 404, 200)
    add("admin.kiosks_page", "GET", "/admin/kiosks?office=STP", 200, 404, 200, 404)
    add("admin.comments_bulk", "POST", "/admin/comments/bulk", 302, 302, 404, 403)
    add("admin.held", "GET", "/admin/held?office=BD-KM", 200, 200, 404, 403)
    add("admin.held", "GET", "/admin/held?office=STP", 200, 404, 200, 403)
    add("admin.held_action", "POST", "/admin/held/release?office=BD-KM", 302, 302, 404, 403)
    add("admin.held_action", "POST", "/admin/held/discard?office=STP", 302, 404, 302, 403)
    add("admin.alerts_page", "GET", "/admin/alerts?office=BD-KM", 200, 200, 404, 403)
    add("admin.alerts_page", "POST", "/admin/alerts?office=BD-KM", 302, 302, 404, 403)
    add("admin.alerts_page", "POST", "/admin/alerts?office=STP", 302, 404, 302, 403)
    add("admin.tokens", "GET", "/admin/tokens", 200, 200, 200, 200)
    add("admin.tokens", "POST", "/admin/tokens", 200, 200, 200, 200)
    add("admin.revoke_token", "POST", "/admin/tokens/{token_of_bd}/revoke", 302, 302, 404, 404)
    add("admin.users", "GET", "/admin/users", 200, 403, 403, 403)
    add("admin.users", "POST", "/admin/users", 400, 403, 403, 403)
    add("admin.user_action", "POST", f"/admin/users/{bd_id}/reset", 200, 403, 403, 403)
    add("admin.targets_page", "GET", "/admin/targets?office=BD&year=2022", 200, 403, 403, 403)
    add("admin.targets_page", "POST", "/admin/targets?office=BD&year=2022", 302, 403, 403, 403)
    add("admin.audit", "GET", "/admin/audit", 200, 403, 403, 403)
    add("admin.report_edit", "GET", f"/admin/report/BD-KM/{m}/edit", 200, 200, 404, 403)
    add("admin.report_edit", "GET", f"/admin/report/STP/{m}/edit", 200, 404, 200, 404)
    add("admin.report_edit", "POST", f"/admin/report/BD-KM/{m}/edit", 302, 302, 404, 403)
    add("admin.report_version_pdf", "GET", f"/admin/report/BD-KM/{m}/v1.pdf", 200, 200, 404,
        200)
    add("admin.report_version_pdf", "GET", f"/admin/report/STP/{m}/v1.pdf", 404, 404, 404,
        404)
    add("admin.password", "GET", "/admin/password", 200, 200, 200, 200)
    add("admin.login", "GET", "/admin/login", 200, 200, 200, 200, 200)
    # withdrawing deletes: after every other use of the comments
    add("admin.withdraw_comment", "POST", f"/admin/comments/{km}/withdraw", 302, 302, 404, 403)
    add("admin.withdraw_comment", "POST", f"/admin/comments/{stp}/withdraw", 302, 404, 302,
        403)
    add("admin.withdraw_request", "POST", f"/admin/requests/{kr}/withdraw", 302, 302, 404, 403)
    add("admin.withdraw_request", "POST", f"/admin/requests/{sr}/withdraw", 302, 404, 302, 403)
    add("admin.public_results_page", "GET", "/admin/public-results", 200, 403, 403, 403)
    stp_office = w["offices"]["STP"].id
    add("admin.switch_public_results", "POST", f"/admin/public-results/{stp_office}", 302,
        403, 403, 403)
    add("admin.logout", "POST", "/admin/logout", 302, 302, 302, 302)
    add("admin_api.office_report", "GET", f"/api/v1/offices/BD/reports/{m}", 200, 200, 404,
        404, 401)
    add("admin_api.office_report", "GET", f"/api/v1/offices/BD-KM/reports/{m}", 200, 200, 404,
        200, 401)
    add("admin_api.office_report", "GET", f"/api/v1/offices/STP/reports/{m}", 200, 404, 200,
        404, 401)
    add("admin_api.office_report", "GET", f"/api/v1/offices/BD/reports/{q}?by=age", 200, 200,
        404, 404, 401)
    # dossier volumes take the office's API key: a person's token is never enough
    add("admin_api.office_dossiers", "PUT", f"/api/v1/offices/BD-KM/dossiers/{m}", 401, 401,
        401, 401, 401)
    return cases


def test_every_admin_route_is_in_the_matrix(app, world):
    from tests.admin.test_paper_pages import PAPER_ENDPOINTS

    covered = {c[0] for c in _cases(world)} | {"admin.static"} | PAPER_ENDPOINTS
    endpoints = {r.endpoint for r in app.url_map.iter_rules()
                 if r.endpoint.startswith(("admin.", "admin_api."))}
    assert endpoints - covered == set(), "add the new route to the permission matrix"


def _held_groups(w: dict) -> dict[str, str]:
    """A held-back answer released uncounted in BD-KM and in STP: office code -> group key."""
    from core.extensions import db
    from core.services import review
    from core.services.common import get_instrument
    from core.services.intake import clean_response
    from core.services.mixing import hold
    from core.timeutil import month_bounds_utc
    from tests.helpers import release_all

    instrument = get_instrument("hanoi-2022")
    day = month_bounds_utc(w["month"])[0].date()
    for code in ("BD-KM", "STP"):
        hold(clean_response(instrument, {c.code: 2 for c in instrument.criteria}),
             w["offices"][code].id, "kiosk", day.replace(day=2), counted=False, flags="burst")
    db.session.commit()
    release_all()
    return {code: review.held_groups(w["offices"][code])[0].key for code in ("BD-KM", "STP")}


@pytest.mark.parametrize("who", ROLES)
def test_permission_matrix(app, world, who):
    tokens = {}
    for name in ("city", "bd", "stp", "kmview"):
        tokens[name] = create_token(world["users"][name], "matrix", actor="test").secret
    bd_token_id = create_token(world["users"]["bd"], "to revoke", actor="test").token.id
    held = _held_groups(world)
    km = world["km_comment"]
    failures = []
    client = app.test_client()
    if who != ANON:
        assert login(client, who).status_code == 302
    for endpoint, method, url, expected in _cases(world):  # sign-out comes last
        url = url.replace("{token_of_bd}", str(bd_token_id))
        headers = {}
        if endpoint.startswith("admin_api.") and who != ANON:
            headers["Authorization"] = f"Bearer {tokens[who]}"
        data = {}
        if endpoint == "admin.handle_comment":
            rid = url.rsplit("/", 1)[1]
            data = {f"c{rid}-status": "in_progress", f"c{rid}-internal_note": "đang xem"}
        if endpoint == "admin.handle_request":
            rid = url.rsplit("/", 1)[1]
            data = {f"r{rid}-status": "in_progress", f"r{rid}-internal_note": "đã gọi"}
        if endpoint == "admin.comments_bulk":
            data = {"ids": [str(km)], "status": "in_progress"}
        if endpoint == "admin.held_action":
            data = {"group": [held[url.rsplit("=", 1)[1]]]}
        if endpoint == "admin.alerts_page" and method == "POST":
            data = {"email": "a@example.vn", "kinds": ["held"]}
        if endpoint == "admin.targets_page" and method == "POST":
            data = {"t_I.1": "92"}
        if endpoint == "admin.tokens" and method == "POST":
            data = {"label": "x"}
        if endpoint == "admin.report_edit" and method == "POST":
            data = {"assessment": "Đánh giá.", "proposals": "Đề xuất.", "action": "save"}
        if endpoint == "admin.report_version_pdf" and "BD-KM" in url:
            _ensure_version(world)
        data = setup_matrix.form_data(endpoint, method, url, world) or data
        resp = client.open(url, method=method, data=data, headers=headers)
        if resp.status_code != expected[who]:
            failures.append(f"{method} {url}: {resp.status_code} != {expected[who]}")
        if endpoint == "admin_api.office_dossiers":
            data = None
            headers["Content-Type"] = "application/json"
        if endpoint == "admin_api.office_report" and who != ANON:
            # a session alone is not enough for the API
            bare = client.get(url)
            if bare.status_code != 401:
                failures.append(f"API without token: {bare.status_code}")
    assert failures == []


def _ensure_version(world) -> None:
    """Version 1 of BD-KM's report exists (finalised by the city administrator)."""
    from core.periods import month_period
    from core.services import report_versions

    office, period = world["offices"]["BD-KM"], month_period(world["month"])
    if not report_versions.versions(office, period):
        report_versions.finalise(world["users"]["city"], office, period)


def test_other_offices_never_leak_into_pages(client, world):
    login(client, "bd")
    m = world["month"]
    page = client.get(f"/admin/?office=BD&month={m}").get_data(as_text=True)
    assert "Sở Tư pháp" not in page  # the office picker lists only BD's subtree
    comments = client.get(f"/admin/comments?office=BD&month={m}").get_data(as_text=True)
    assert "Nhà vệ sinh" in comments and "HYPERLINK" not in comments
