"""Part II drafted from the figures: deterministic, and saying only what the figures
support (targets judged only when complete and adequately sampled, the lowest criteria,
significant changes, comments and their themes, sample adequacy)."""

from __future__ import annotations

import copy

from flask_babel import force_locale

from core.services.assessment import draft, draft_from
from core.services.dashboard import build_dashboard
from tests.admin import fixtures as admin_fixtures

world = admin_fixtures.world


def _data(offices, month):
    return build_dashboard(offices["BD-KM"], month)


def test_same_figures_same_text(app, world, offices):
    data = _data(offices, world["month"])
    with force_locale("vi"):
        first = draft(data)
        again = draft(copy.deepcopy(data))
    assert first == again
    text = " ".join(first["assessment"])
    assert "36 phiếu khảo sát hợp lệ, đủ để đánh giá" in text
    assert "chưa đầy đủ" in text  # V.4 never answered: the overall is incomplete
    assert "Người dân, tổ chức đã gửi 1 ý kiến góp ý, trong đó 0 ý kiến đã được xử lý." in text
    assert "So với kỳ trước, không có chỉ số nào thay đổi có ý nghĩa thống kê." in text


def test_targets_changes_themes_and_low_samples(app, world, offices):
    data = _data(offices, world["month"])
    report = data["report"]
    crit = report["criteria"]
    crit[0]["target"] = {"met": False, "gap": -3.0}
    crit[1]["target"] = {"met": True, "gap": 1.0}
    crit[2]["target"] = {"met": None, "gap": None}  # not judged: never counted
    crit[3]["change"]["previous"] = {"delta": -7.5, "significant": True, "comparable": True}
    crit[4]["change"]["previous"] = {"delta": 4.0, "significant": False, "comparable": True}
    comments = {"comments": 5, "handled": 2, "tagged": 3,
                "themes": {"time": 3, "attitude": 1}}
    with force_locale("vi"):
        out = draft_from(data, comments, {"time": "Thời gian chờ đợi, giải quyết",
                                          "attitude": "Thái độ"})
        text = " ".join(out["assessment"])
        assert "1 chỉ số đạt chỉ tiêu; 1 chỉ số chưa đạt chỉ tiêu: I.1 (" in text
        changes = text.split("So với kỳ trước")[1].split("So với cùng kỳ")[0]
        assert "I.4 (-7,50)" in changes and crit[4]["code"] not in changes  # not significant
        assert "Thời gian chờ đợi, giải quyết (3); Thái độ (1)" in text
        assert "Tập trung cải thiện:" in out["proposals"][0]
        report["low_sample"] = True
        report["responses"] = 12
        low = draft_from(data, None, {})
    assert "chỉ có 12 phiếu" in " ".join(low["assessment"])
    assert any("đạt mức tối thiểu" in p for p in low["proposals"])
