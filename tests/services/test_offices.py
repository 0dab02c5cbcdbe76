"""The office tree: CSV import through the CLI, idempotency, all-or-nothing validation."""

import sqlalchemy as sa

from core.extensions import db
from core.models import Office, OfficeClosure
from core.services.offices import descendant_ids, get_office

TREE = """code,name,parent_code,level
HN,Thành phố Hà Nội,,city
BD,UBND quận Ba Đình,HN,district
BD-KM,UBND phường Kim Mã,BD,commune
STP,Sở Tư pháp,HN,department
"""


def _write(tmp_path, text, name="offices.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_builds_the_tree_and_is_idempotent(app, runner, tmp_path):
    result = runner.invoke(args=["offices", "import", _write(tmp_path, TREE)])
    assert result.exit_code == 0, result.output
    assert "Đã tạo 4" in result.output
    hn = get_office("HN")
    assert sorted(db.session.get(Office, i).code for i in descendant_ids(hn.id)) == \
        ["BD", "BD-KM", "HN", "STP"]
    assert get_office("BD-KM").parent.code == "BD"
    depth = db.session.scalar(sa.select(OfficeClosure.depth).where(
        OfficeClosure.ancestor_id == hn.id, OfficeClosure.descendant_id == get_office("BD-KM").id))
    assert depth == 2

    again = runner.invoke(args=["offices", "import", _write(tmp_path, TREE)])
    assert again.exit_code == 0 and "Đã tạo 0, cập nhật 0, giữ nguyên 4" in again.output

    renamed = TREE.replace("UBND phường Kim Mã", "UBND phường Kim Mã mới").replace(
        "BD-KM,UBND phường Kim Mã mới,BD", "BD-KM,UBND phường Kim Mã mới,HN")
    third = runner.invoke(args=["offices", "import", _write(tmp_path, renamed)])
    assert "cập nhật 1," in third.output
    db.session.expire_all()
    assert get_office("BD-KM").name == "UBND phường Kim Mã mới"
    assert get_office("BD-KM").parent.code == "HN"
    assert get_office("BD-KM").id not in descendant_ids(get_office("BD").id)


def test_bad_file_lists_every_bad_line_and_stores_nothing(app, runner, tmp_path):
    bad = """code,name,parent_code,level
HN,Thành phố Hà Nội,,city
BD,UBND quận Ba Đình,XX,district
KM,,HN,commune
HN,Trùng mã,,city
TT,Thị trấn,HN,village
"""
    result = runner.invoke(args=["offices", "import", _write(tmp_path, bad)])
    assert result.exit_code == 1
    out = result.output
    assert "dòng 3" in out and "XX" in out          # unknown parent
    assert "dòng 4" in out                           # empty name
    assert "dòng 5" in out and "dòng 2" in out       # duplicate code
    assert "dòng 6" in out and "village" in out      # bad level
    assert "không có gì được lưu" in out
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Office)) == 0


def test_cycles_are_rejected(app, runner, tmp_path):
    runner.invoke(args=["offices", "import", _write(tmp_path, TREE)])
    cyc = "code,name,parent_code,level\nBD,UBND quận Ba Đình,BD-KM,district\n"
    result = runner.invoke(args=["offices", "import", _write(tmp_path, cyc, "c.csv")])
    assert result.exit_code == 1 and "BD" in result.output
    db.session.expire_all()
    assert get_office("BD").parent.code == "HN"


def test_bad_header_is_an_error(app, runner, tmp_path):
    result = runner.invoke(args=["offices", "import",
                                 _write(tmp_path, "code,ten,parent,level\nHN,x,,city\n")])
    assert result.exit_code == 1 and "code,name,parent_code,level" in result.output


def test_report_fields_are_optional_columns_kept_when_left_out(app, runner, tmp_path):
    with_fields = ("code,name,parent_code,level,superior_name,document_symbol,place_name,"
                   "signer_capacity,signer_title,signer_name,report_recipients\n"
                   "HN,Thành phố Hà Nội,,city,,UBND,Hà Nội,TM. ỦY BAN NHÂN DÂN,CHỦ TỊCH,,"
                   "Bộ Nội vụ\\nVăn phòng Chính phủ\n"
                   "BD,UBND quận Ba Đình,HN,district,ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI,UBND,"
                   "Hà Nội,KT. CHỦ TỊCH,PHÓ CHỦ TỊCH,Nguyễn Văn A,\n")
    result = runner.invoke(args=["offices", "import", _write(tmp_path, with_fields)])
    assert result.exit_code == 0, result.output
    bd, hn = get_office("BD"), get_office("HN")
    assert (bd.superior_name, bd.document_symbol, bd.place_name, bd.signer_capacity,
            bd.signer_title, bd.signer_name, bd.report_recipients) == (
        "ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI", "UBND", "Hà Nội", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH",
        "Nguyễn Văn A", None)
    assert hn.report_recipients == "Bộ Nội vụ\nVăn phòng Chính phủ"
    assert hn.superior_name is None
    # the plain four columns leave the report fields as they are
    again = runner.invoke(args=["offices", "import", _write(tmp_path, TREE)])
    assert again.exit_code == 0, again.output
    assert get_office("BD").signer_title == "PHÓ CHỦ TỊCH"
    too_long = "code,name,parent_code,level,document_symbol\nHN,Hà Nội,,city," + "X" * 33 + "\n"
    bad = runner.invoke(args=["offices", "import", _write(tmp_path, too_long)])
    assert bad.exit_code != 0 and "document_symbol" in bad.output
    assert get_office("HN").document_symbol == "UBND"
