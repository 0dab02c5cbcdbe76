"""Finalised reports: edit parts II and III, "Chốt báo cáo", exact bytes later, late paper
imports noticed (detailed only from the minimum sample), new versions keep the old ones,
``flask report … --final N``, audited, and only heads and administrators finalise."""

from __future__ import annotations

import hashlib
import json
import re

import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent, ReportVersion
from core.services import report_versions
from tests.admin import fixtures as admin_fixtures
from tests.admin.fixtures import login
from tests.helpers import CODES, paper_row, write_csv

world = admin_fixtures.world
HEADER = ["office_code", "submitted_at", *CODES]


def _csrf(client, url: str) -> str:
    """The form's CSRF token (tests run with CSRF off: then none is needed)."""
    page = client.get(url)
    assert page.status_code == 200, page.data[:500]
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      page.get_data(as_text=True))
    return found.group(1) if found else ""


def _finalise(client, code: str, month: str, assessment: str, proposals: str = "Đề xuất A.",
              **extra) -> None:
    url = f"/admin/report/{code}/{month}/edit"
    r = client.post(url, data={"csrf_token": _csrf(client, url), "assessment": assessment,
                               "proposals": proposals, "action": "finalise", **extra})
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]


def _late_paper(runner, tmp_path, office: str, month: str, n: int, score: str) -> None:
    rows = [paper_row(office, f"{month}-20", score) for _ in range(n)]
    path = write_csv(tmp_path / f"late-{n}-{score}.csv", HEADER, rows)
    result = runner.invoke(args=["responses", "import", str(path)])
    assert result.exit_code == 0, result.output


def test_finalise_freeze_notice_and_new_version(client, runner, world, tmp_path, app):
    m = world["month"]
    login(client, "bd")
    # the edit page offers the draft
    page = client.get(f"/admin/report/BD-KM/{m}/edit").get_data(as_text=True)
    assert "phiếu khảo sát hợp lệ" in page
    _finalise(client, "BD-KM", m, "Đánh giá của lãnh đạo.\n\nĐoạn thứ hai.",
              signer_title="PHÓ CHỦ TỊCH", recipients="UBND quận Ba Đình\nThanh tra quận")
    v1 = client.get(f"/admin/report/BD-KM/{m}/v1.pdf")
    assert v1.status_code == 200 and v1.mimetype == "application/pdf"
    row = db.session.scalar(sa.select(ReportVersion))
    assert row.version == 1 and row.finalised_by == "bd"
    assert row.sha256 == hashlib.sha256(v1.data).hexdigest() == v1.headers["X-Content-SHA256"]
    assert row.texts["assessment"] == ["Đánh giá của lãnh đạo.", "Đoạn thứ hai."]
    assert row.letterhead["signer_title"] == "PHÓ CHỦ TỊCH"
    assert row.letterhead["recipients"] == ["UBND quận Ba Đình", "Thanh tra quận"]
    dash = client.get(f"/admin/?office=BD-KM&month={m}").get_data(as_text=True)
    assert "data-changed-after-final" not in dash and 'data-version="1"' in dash

    # a few late paper answers: noticed, not detailed (fewer than the minimum sample)
    _late_paper(runner, tmp_path, "BD-KM", m, 3, "1")
    assert client.get(f"/admin/report/BD-KM/{m}/v1.pdf").data == v1.data
    dash = client.get(f"/admin/?office=BD-KM&month={m}").get_data(as_text=True)
    assert "data-changed-after-final" in dash
    notice = dash.split("data-changed-after-final", 1)[1].split("</p>", 1)[0]
    assert "→" not in notice
    # enough late answers: what changed, per figure
    _late_paper(runner, tmp_path, "BD-KM", m, app.config["MIN_SAMPLE"], "1")
    assert client.get(f"/admin/report/BD-KM/{m}/v1.pdf").data == v1.data
    dash = client.get(f"/admin/?office=BD-KM&month={m}").get_data(as_text=True)
    notice = dash.split("data-changed-after-final", 1)[1].split("</p>", 1)[0]
    assert "→" in notice and "I.1" in notice

    # a new version keeps the old one and lists the differences
    _finalise(client, "BD-KM", m, "Đánh giá lần hai.")
    versions = db.session.scalars(sa.select(ReportVersion).order_by(ReportVersion.version)
                                  ).all()
    assert [v.version for v in versions] == [1, 2]
    assert client.get(f"/admin/report/BD-KM/{m}/v1.pdf").data == v1.data
    diff = report_versions.differences(versions[0].figures, versions[1].figures)
    assert diff["detailed"] and any(f["code"] == "overall" for f in diff["figures"])
    dash = client.get(f"/admin/?office=BD-KM&month={m}").get_data(as_text=True)
    assert "data-changed-after-final" not in dash
    assert 'data-version="2"' in dash and "Khác biệt so với phiên bản 1" in dash

    # the CLI returns the same bytes, and the frozen figures
    out = tmp_path / "v1.pdf"
    result = runner.invoke(args=["report", "BD-KM", m, "--format", "pdf", "--final", "1",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == v1.data
    frozen = json.loads(runner.invoke(args=["report", "BD-KM", m, "--final", "1"]).output)
    assert frozen["sha256"] == versions[0].sha256
    assert frozen["figures"]["responses"] == 35 + 1  # before the late answers
    missing = runner.invoke(args=["report", "BD-KM", m, "--final", "9"])
    assert missing.exit_code != 0
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert actions.count("report.finalise") == 2
    assert "report.download_final" in actions and "report.text_saved" in actions


def test_only_heads_and_admins_finalise_and_only_in_scope(client, world):
    m = world["month"]
    login(client, "kmview")
    assert client.get(f"/admin/report/BD-KM/{m}/edit").status_code == 403
    login(client, "stp")
    assert client.get(f"/admin/report/BD-KM/{m}/edit").status_code == 404
    login(client, "bd")
    r = client.get(f"/admin/report/BD-KM/{m}-13/edit")
    assert r.status_code == 400


def test_empty_assessment_is_refused_and_nothing_is_frozen(client, world):
    m = world["month"]
    login(client, "bd")
    url = f"/admin/report/BD-KM/{m}/edit"
    r = client.post(url, data={"csrf_token": _csrf(client, url), "assessment": "  \n",
                               "proposals": "x", "action": "finalise"})
    assert r.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportVersion)) == 0
