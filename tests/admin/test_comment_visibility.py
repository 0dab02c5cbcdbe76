"""Who sees what of citizens' comments and contacts: every role x (comment text, contact
data) x (comments page, dashboard, raw export CSV and XLSX, criterion exports, report API).

Comment texts and contacts are for the people who handle comments for the office (the
administrator, the office's head); a viewer sees counts; contacts are in no export and no
API; every export is audited with its number of rows.
"""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from core.extensions import db
from core.models import AuditEvent
from core.services.accounts import create_token
from tests.admin import fixtures as admin_fixtures
from tests.admin.fixtures import login

world = admin_fixtures.world

#: office -> (anonymous comment, contact request's comment, contact as stored)
TEXTS = {
    "BD-KM": ("Nhà vệ sinh cần sạch sẽ hơn.", "Xin gọi lại về lệ phí.", "0912345678"),
    "STP": ("HYPERLINK", "Hồ sơ chứng thực bị trả lại",
            "an.nguyen@example.vn"),
}
#: (user, office) -> may read texts and contacts; None: the office is outside the user's scope
READS = {
    ("city", "BD-KM"): True, ("city", "STP"): True,
    ("bd", "BD-KM"): True, ("bd", "STP"): None,
    ("stp", "BD-KM"): None, ("stp", "STP"): True,
    ("kmview", "BD-KM"): False, ("kmview", "STP"): None,
}


def _xlsx_text(data: bytes) -> str:
    wb = load_workbook(io.BytesIO(data))
    return "\n".join(str(v) for row in wb.active.iter_rows(values_only=True) for v in row
                     if v is not None)


@pytest.mark.parametrize("who", ["city", "bd", "stp", "kmview"])
def test_comment_texts_and_contacts_only_for_the_offices_handlers(app, world, who):
    """Attack: each role reads every surface of each office for comment texts and contacts.
    Before, a viewer read every comment on the comments page, the dashboard and the raw
    export."""
    m = world["month"]
    client = app.test_client()
    assert login(client, who).status_code == 302
    token = create_token(world["users"][who], "visibility", actor="test").secret
    failures = []
    for (user, office), reads in READS.items():
        if user != who:
            continue
        comment, request_comment, contact = TEXTS[office]
        surfaces = {
            "comments page": client.get(f"/admin/comments?office={office}&month={m}"),
            "dashboard": client.get(f"/admin/?office={office}&month={m}"),
            "responses.csv": client.get(f"/admin/exports/{office}/{m}/responses.csv"),
            "responses.xlsx": client.get(f"/admin/exports/{office}/{m}/responses.xlsx"),
            "criteria.csv": client.get(f"/admin/exports/{office}/{m}/criteria.csv"),
            "criteria.xlsx": client.get(f"/admin/exports/{office}/{m}/criteria.xlsx"),
            "report API": client.get(f"/api/v1/offices/{office}/reports/{m}",
                                     headers={"Authorization": f"Bearer {token}"}),
        }
        for name, resp in surfaces.items():
            if reads is None:
                if resp.status_code != 404:
                    failures.append(f"{office} {name}: {resp.status_code}, not 404")
                continue
            if resp.status_code != 200:
                failures.append(f"{office} {name}: {resp.status_code}")
                continue
            text = (_xlsx_text(resp.data) if name.endswith(".xlsx")
                    else resp.data.decode("utf-8-sig"))
            shows_comment = comment in text
            want_comment = reads and name in ("comments page", "dashboard", "responses.csv",
                                              "responses.xlsx")
            if shows_comment != want_comment:
                failures.append(f"{office} {name}: comment shown={shows_comment}")
            want_request = reads and name == "comments page"
            for label, secret in (("request comment", request_comment), ("contact", contact)):
                if (secret in text) != want_request:
                    failures.append(f"{office} {name}: {label} shown={secret in text}")
            if name == "responses.csv":
                header = next(csv.reader(io.StringIO(text)))
                if ("Ý kiến" in header) != reads:
                    failures.append(f"{office} {name}: comment column={'Ý kiến' in header}")
    assert failures == []


def test_every_export_is_audited_with_its_row_count(client, world):
    login(client, "kmview")
    m = world["month"]
    for name in ("responses.csv", "responses.xlsx", "criteria.csv", "report.pdf"):
        assert client.get(f"/admin/exports/BD-KM/{m}/{name}").status_code == 200
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export")
                                .order_by(AuditEvent.id)).all()
    assert [(e.actor, e.target, (e.details or {}).get("rows")) for e in events] == [
        ("kmview", "responses.csv", 36), ("kmview", "responses.xlsx", 36),
        ("kmview", "criteria.csv", 30), ("kmview", "report.pdf", None)]
