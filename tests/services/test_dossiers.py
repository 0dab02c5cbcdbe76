"""Dossier volumes and sample adequacy (issue 14 §3): ``flask dossiers import`` (all or
nothing, re-import replaces), ``PUT /api/v1/offices/<code>/dossiers/<YYYY-MM>`` with the
office's API key, and the report's dossiers, response rate, required sample, adequacy and
answered receipts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import AuditEvent, DossierVolume, Receipt, ReceiptUse
from core.services.dossiers import required_sample
from core.services.reports import period_report
from tests.admin.fixtures import make_responses


def _csv(tmp_path, text: str, name: str = "dossiers.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _volumes() -> dict[tuple[int, str], int]:
    return {(r.office_id, r.month): r.dossiers for r in db.session.scalars(
        sa.select(DossierVolume))}


@pytest.mark.parametrize(("n", "sample"), [(0, 0), (1, 1), (40, 37), (100, 80), (400, 200),
                                            (1000, 286), (4000, 364), (100_000, 399)])
def test_the_official_sample_size(n, sample):
    """n = N / (1 + N·e²), e = 5 %, rounded up (Yamane)."""
    assert required_sample(n) == sample


def test_import_is_all_or_nothing_and_a_reimport_replaces(runner, offices, tmp_path):
    good = _csv(tmp_path, "office_code,month,dossiers\nBD-KM,2022-07,40\nBD-DB,2022-07,4000\n"
                          "BD-KM,2022-08,12\n")
    out = runner.invoke(args=["dossiers", "import", str(good)])
    assert out.exit_code == 0, out.output
    assert "3" in out.output
    km, dbb = offices["BD-KM"].id, offices["BD-DB"].id
    assert _volumes() == {(km, "2022-07"): 40, (dbb, "2022-07"): 4000, (km, "2022-08"): 12}
    bad = _csv(tmp_path, "office_code,month,dossiers\nBD-KM,2022-07,41\nNOPE,2022-07,1\n"
                         "BD-DB,2022-13,1\nBD-DB,2022-09,-3\nBD-DB,2022-10,1.5\n"
                         "BD-KM,2022-07,5\n", "bad.csv")
    out = runner.invoke(args=["dossiers", "import", str(bad)])
    assert out.exit_code == 1
    for line in ("line 3", "line 4", "line 5", "line 6", "line 7"):
        assert line.replace("line", "dòng") in out.output
    assert "line 2" not in out.output and "dòng 2:" not in out.output
    assert _volumes()[(km, "2022-07")] == 40  # nothing stored
    again = _csv(tmp_path, "month,office_code,dossiers\r\n2022-07,BD-KM,50\r\n", "again.csv")
    assert runner.invoke(args=["dossiers", "import", str(again)]).exit_code == 0
    assert _volumes() == {(km, "2022-07"): 50, (dbb, "2022-07"): 4000, (km, "2022-08"): 12}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "dossiers.import")) == 2
    header = _csv(tmp_path, "office,month,n\nBD-KM,2022-07,1\n", "header.csv")
    out = runner.invoke(args=["dossiers", "import", str(header)])
    assert out.exit_code == 1 and "office_code,month,dossiers" in out.output


def test_report_fields(runner, offices, instrument, tmp_path):
    """BD-KM answers 40 of 40 dossiers (needs 37: adequate), BD-DB 12 of 4000 (needs 364: not),
    STP reports nothing; BD reports no dossiers of its own."""
    make_responses(instrument, offices["BD-KM"], "2022-07", 40, sat=5)
    make_responses(instrument, offices["BD-DB"], "2022-07", 12, sat=4)
    make_responses(instrument, offices["STP"], "2022-07", 30, sat=4)
    path = _csv(tmp_path, "office_code,month,dossiers\nBD-KM,2022-07,40\nBD-DB,2022-07,4000\n")
    assert runner.invoke(args=["dossiers", "import", str(path)]).exit_code == 0
    km = period_report(offices["BD-KM"], "2022-07")
    assert (km["dossiers"], km["required_sample"], km["sample_adequate"]) == (40, 37, True)
    assert km["response_rate"] == pytest.approx(100.0)
    bd = period_report(offices["BD"], "2022-07")
    assert bd["dossiers"] == 4040 and bd["required_sample"] is None
    assert bd["sample_adequate"] is False  # BD-DB is not adequate
    assert bd["response_rate"] == pytest.approx(100.0 * 52 / 4040)
    hn = period_report(offices["HN"], "2022-07")
    # STP's 30 answers are not in the rate: it reports no dossiers
    assert hn["dossiers"] == 4040 and hn["response_rate"] == pytest.approx(100.0 * 52 / 4040)
    stp = period_report(offices["STP"], "2022-07")
    assert (stp["dossiers"], stp["response_rate"], stp["required_sample"],
            stp["sample_adequate"]) == (None, None, None, None)
    # a quarter sums the months that were reported
    q3 = period_report(offices["BD-KM"], "2022-Q3")
    assert q3["dossiers"] == 40 and q3["required_sample"] == 37
    # CLI JSON says the same
    data = json.loads(runner.invoke(args=["report", "BD", "2022-07"]).output)
    assert data["dossiers"] == 4040 and data["sample_adequate"] is False


def test_receipts_answered_share_from_counts_only(app, offices, instrument):
    """Of the receipts minted in a month, the share with a use row; null figures under the
    minimum sample of receipts."""
    from core.services.receipts import mint_receipt

    app.config["MIN_SAMPLE"] = 4
    km = offices["BD-KM"]
    ids = [mint_receipt(km, f"HS-2022-{i:04d}").receipt.id for i in range(5)]
    db.session.execute(sa.update(Receipt).values(created_at=datetime(2022, 7, 3, 2, tzinfo=UTC)))
    db.session.add_all([ReceiptUse(receipt_id=ids[0]), ReceiptUse(receipt_id=ids[3])])
    db.session.commit()
    report = period_report(km, "2022-07")
    assert report["receipts"] == {"minted": 5, "answered": 2, "share": pytest.approx(40.0)}
    assert period_report(offices["HN"], "2022-Q3")["receipts"]["minted"] == 5
    assert period_report(km, "2022-08")["receipts"] is None
    app.config["MIN_SAMPLE"] = 30
    assert period_report(km, "2022-07")["receipts"] == {"minted": 5, "answered": None,
                                                         "share": None}


def test_put_dossiers_with_the_office_key(app, client, offices):
    from core.services.receipts import create_api_key, revoke_api_key

    row, key = create_api_key("BD-KM")
    _other, other_key = create_api_key("STP")
    url = "/api/v1/offices/BD-KM/dossiers/2022-07"

    def put(body, auth=key, path=url):
        headers = {"Authorization": f"Bearer {auth}"} if auth else {}
        return client.put(path, json=body, headers=headers)

    r = put({"dossiers": 40})
    assert r.status_code == 200 and r.get_json() == {"office_code": "BD-KM",
                                                     "month": "2022-07", "dossiers": 40}
    assert put({"dossiers": 55}).status_code == 200  # replaces
    assert _volumes() == {(offices["BD-KM"].id, "2022-07"): 55}
    for body in ({"dossiers": -1}, {"dossiers": 1.5}, {"dossiers": "40"}, {"dossiers": True},
                 {"dossiers": 40, "x": 1}, {}, [40]):
        resp = put(body)
        assert resp.status_code == 400, body
        assert resp.get_json()["error"] in ("invalid", "invalid_dossiers")
    assert put({"dossiers": 1}, path="/api/v1/offices/BD-KM/dossiers/2022-13").status_code == 400
    assert put({"dossiers": 1}, auth=other_key).status_code == 403
    assert put({"dossiers": 1}, auth=None).status_code == 401
    assert put({"dossiers": 1}, path="/api/v1/offices/NOPE/dossiers/2022-07").status_code == 404
    revoke_api_key(row.prefix)
    assert put({"dossiers": 1}).status_code == 401
    assert _volumes() == {(offices["BD-KM"].id, "2022-07"): 55}


def test_dashboard_shows_dossiers_and_adequacy(app, client, runner, offices, instrument,
                                               tmp_path):
    from core.services.accounts import create_user
    from tests.admin.fixtures import FAST, login

    app.config["PASSWORD_HASH_METHOD"] = FAST
    create_user("city", "admin", None, "Hoan-Kiem-lake-1", actor="test", must_change=False)
    make_responses(instrument, offices["BD-DB"], "2022-07", 12, sat=4)
    path = _csv(tmp_path, "office_code,month,dossiers\nBD-DB,2022-07,4000\n")
    assert runner.invoke(args=["dossiers", "import", str(path)]).exit_code == 0
    login(client, "city")
    html = client.get("/admin/?office=BD-DB&month=2022-07").get_data(as_text=True)
    assert 'data-dossiers="4000"' in html and 'data-adequate="false"' in html
    assert "Cỡ mẫu cần thiết" in html and "364" in html
    html = client.get("/admin/?office=STP&month=2022-07").get_data(as_text=True)
    assert 'data-dossiers="none"' in html


@pytest.mark.skipif(__import__("shutil").which("pdftotext") is None,
                    reason="needs poppler-utils")
def test_pdf_of_a_quarter_shows_the_dossiers(runner, offices, instrument, tmp_path):
    """``flask report BD-DB 2022-Q3 --format pdf``: the period in words and the dossier
    paragraph, read back with pdftotext."""
    import subprocess

    make_responses(instrument, offices["BD-DB"], "2022-07", 12, sat=4)
    make_responses(instrument, offices["BD-DB"], "2022-08", 20, sat=5)
    path = _csv(tmp_path, "office_code,month,dossiers\nBD-DB,2022-07,4000\nBD-DB,2022-08,50\n")
    assert runner.invoke(args=["dossiers", "import", str(path)]).exit_code == 0
    out = tmp_path / "q3.pdf"
    result = runner.invoke(args=["report", "BD-DB", "2022-Q3", "--format", "pdf", "-o",
                                 str(out)])
    assert result.exit_code == 0, result.output
    text = " ".join(subprocess.run(["pdftotext", str(out), "-"], capture_output=True,
                                   text=True, check=True).stdout.split())
    assert "quý 3/2022" in text
    assert "Số hồ sơ đã giải quyết: 4.050" in text
    assert "cỡ mẫu cần thiết của cơ quan này 365" in text and "đủ cỡ mẫu: không" in text
