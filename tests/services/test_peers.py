"""Where a head stands: the city figure, the median of peers of the same level (only with at
least 5 with enough answers) and the rank, and nothing else about any other office."""

from __future__ import annotations

import io
import re
import statistics

from core.extensions import db
from core.i18n import fmt_percent
from core.services.offices import import_offices
from core.services.peers import peer_standing
from core.timeutil import last_complete_month
from tests.admin.fixtures import login
from tests.services.test_priorities import _store

WARDS = ["BD-KM", "BD-DB", "BD-X1", "BD-X2", "BD-X3", "BD-X4"]
EXTRA = ("code,name,parent_code,level\n"
         "BD-X1,UBND phường Ngọc Hà,BD,commune\nBD-X2,UBND phường Cống Vị,BD,commune\n"
         "BD-X3,UBND phường Liễu Giai,BD,commune\nBD-X4,UBND phường Giảng Võ,BD,commune\n")


def _answers(satisfied: int, n: int, k: int = 24) -> list[str]:
    return ["5" * k] * satisfied + ["2" * k] * (n - satisfied)


def _world(app, offices, instrument, wards: list[str], n: int = 30) -> dict[str, float]:
    import_offices(io.StringIO(EXTRA))
    db.session.commit()
    from core.models import Office

    month = last_complete_month()
    expected = {}
    for i, code in enumerate(wards):
        office = db.session.query(Office).filter_by(code=code).one()
        _store(instrument, office, month, _answers(20 + i, n))
        expected[code] = 100.0 * (20 + i) / n
    return expected


def test_median_rank_and_city(app, offices, instrument):
    values = _world(app, offices, instrument, WARDS)
    month = last_complete_month()
    km = offices["BD-KM"]
    out = peer_standing(km, [month], "hanoi-2022")
    peers = [v for code, v in values.items() if code != "BD-KM"]
    assert out["peers_counted"] == 5
    assert abs(out["median"] - statistics.median(peers)) < 1e-9
    assert out["rank"] == 6 and out["of"] == 6  # the lowest of the six
    assert abs(out["city"] - sum(20 + i for i in range(6)) / 180 * 100) < 1e-9
    assert set(out) == {"level", "city", "city_enough", "peers_counted", "min_peers",
                        "median", "rank", "of"}


def test_fewer_than_five_peers_with_enough_answers_gives_no_median(app, offices, instrument):
    _world(app, offices, instrument, WARDS[:5])  # BD-X4 has no answers
    out = peer_standing(offices["BD-KM"], [last_complete_month()], "hanoi-2022")
    assert out["peers_counted"] == 4 and out["median"] is None and out["rank"] is None


def test_the_dashboard_shows_aggregates_only(app, client, offices, instrument):
    from core.services.accounts import create_user
    from tests.admin.fixtures import FAST, PASSWORDS

    app.config["PASSWORD_HASH_METHOD"] = FAST
    create_user("kmview", "viewer", "BD-KM", PASSWORDS["kmview"], actor="test",
                must_change=False)
    db.session.commit()
    values = _world(app, offices, instrument, WARDS)
    login(client, "kmview")
    html = client.get(f"/admin/?office=BD-KM&month={last_complete_month()}").get_data(
        as_text=True)
    section = html.split('id="h-peers"', 1)[1].split("</section>", 1)[0]
    assert "Trung vị của 5 cơ quan cùng cấp" in section and "6/6" in section
    median = statistics.median(v for c, v in values.items() if c != "BD-KM")
    for code, value in values.items():
        if code == "BD-KM" or value == median:  # an odd count's median is a middle value
            continue
        assert fmt_percent(value, "vi") not in html  # no peer's own figure, anywhere
    for name in ("Ngọc Hà", "Cống Vị", "Liễu Giai", "Giảng Võ", "Điện Biên", "BD-X1",
                 "BD-DB"):
        assert name not in html
    # the head's office picker lists only their scope
    assert not re.search(r"BD-X\d", html)
