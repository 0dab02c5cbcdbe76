"""The daily pages of the results area: the held-back answers' queue (and its line on the
dashboard), the comments page at scale (paging, filters, search, assignment, themes, bulk
status, the confirmation where the reader is) and the e-mail alerts settings."""

from __future__ import annotations

import re

import sqlalchemy as sa

from core.extensions import db
from core.models import AlertSubscription, CommentHandling
from core.services.intake import clean_response
from core.services.mixing import hold
from core.timeutil import month_bounds_utc
from tests.admin import fixtures as admin_fixtures
from tests.admin.fixtures import login, make_responses
from tests.helpers import release_all

world = admin_fixtures.world


def test_held_answers_are_counted_from_the_queue_and_the_dashboard_says_how_many(
        app, client, world, instrument):
    km, m = world["offices"]["BD-KM"], world["month"]
    day = month_bounds_utc(m)[0].date().replace(day=4)
    for _i in range(3):
        hold(clean_response(instrument, {c.code: 1 for c in instrument.criteria}), km.id,
             "kiosk", day, counted=False, flags="burst")
    db.session.commit()
    release_all()
    login(client, "bd")
    dash = client.get(f"/admin/?office=BD&month={m}").get_data(as_text=True)
    assert 'data-held="3"' in dash and "/admin/held?office=BD" in dash
    page = client.get("/admin/held?office=BD").get_data(as_text=True)
    assert 'data-waiting="3"' in page and "mức 1: 24 tiêu chí" in page
    assert "Quầy" not in page  # never by desk or tablet
    key = re.search(r'name="group" value="([^"]+)"', page).group(1)
    token = ""
    r = client.post("/admin/held/release?office=BD", data={"csrf_token": token, "one": key},
                    follow_redirects=True)
    assert "Số câu trả lời đã được tính vào kết quả: 3." in r.get_data(as_text=True)
    again = client.post("/admin/held/release?office=BD", data={"csrf_token": token,
                                                               "one": key},
                        follow_redirects=True)
    assert "đã được xem xét trước đó" in again.get_data(as_text=True)
    dash = client.get(f"/admin/?office=BD&month={m}").get_data(as_text=True)
    assert "data-held" not in dash
    bad = client.post("/admin/held/discard?office=BD", data={"csrf_token": token,
                                                             "group": "x:y"})
    assert bad.status_code == 400
    login(client, "kmview")
    assert client.get("/admin/held?office=BD-KM").status_code == 403


def test_comments_page_pages_filters_searches_and_assigns(app, client, world, instrument):
    km, m = world["offices"]["BD-KM"], world["month"]
    ids = make_responses(instrument, km, m, 44, sat=2, comment="Phòng chờ nóng, cần quạt.")
    make_responses(instrument, km, m, 5, sat=5, comment="Cán bộ hướng dẫn tận tình.", day=12)
    login(client, "bd")
    page = client.get(f"/admin/comments?office=BD&month={m}").get_data(as_text=True)
    assert 'data-total="50"' in page and "Trang 1/3" in page  # 44 + 5 + the world's one
    assert page.count('class="comment status-') == 20 + 1  # + the contact request
    last = client.get(f"/admin/comments?office=BD&month={m}&page=3").get_data(as_text=True)
    assert last.count('<blockquote lang="vi">') == 10 + 1  # + the contact request
    found = client.get(f"/admin/comments?office=BD&month={m}&q=tận tình").get_data(as_text=True)
    assert 'data-total="5"' in found and "Phòng chờ" not in found
    every = client.get("/admin/comments?office=BD&month=").get_data(as_text=True)
    assert 'data-total="50"' in every
    assert "điểm" not in page.split("<ol", 1)[1]  # no score anywhere in the list

    rid = ids[0]
    bd_id = world["users"]["bd"].id
    r = client.post(f"/admin/comments/{rid}?next=/admin/comments?office%3DBD%26month%3D{m}",
                    data={f"c{rid}-status": "in_progress", f"c{rid}-themes-shown": "1",
                          f"c{rid}-themes": ["premises", "time"],
                          f"c{rid}-assignee": str(bd_id)})
    assert r.status_code == 302
    assert r.headers["Location"].endswith(f"saved={rid}#comment-{rid}")
    shown = client.get(r.headers["Location"]).get_data(as_text=True)
    card = shown[shown.index(f'id="comment-{rid}"'):]
    assert card.index("data-saved") < card.index("</li>")  # the confirmation is in the card
    h = db.session.get(CommentHandling, rid)
    assert (h.status, h.themes, h.assigned_to) == ("in_progress", ["premises", "time"], bd_id)
    mine = client.get(f"/admin/comments?office=BD&month={m}&assigned=me&theme=premises"
                      ).get_data(as_text=True)
    assert 'data-total="1"' in mine and "giao cho bd" in mine
    stp_id = world["users"]["stp"].id  # the head of another office cannot be assigned
    bad = client.post(f"/admin/comments/{rid}", data={f"c{rid}-status": "new",
                                                      f"c{rid}-assignee": str(stp_id)})
    assert bad.status_code == 400
    assert db.session.get(CommentHandling, rid).status == "in_progress"  # nothing changed

    r = client.post("/admin/comments/bulk", data={"ids": [str(i) for i in ids[1:11]],
                                                  "status": "answered"},
                    follow_redirects=True)
    assert "Số ý kiến đã cập nhật: 10." in r.get_data(as_text=True)
    answered = client.get(f"/admin/comments?office=BD&month={m}&status=answered"
                          ).get_data(as_text=True)
    assert 'data-total="10"' in answered
    out_of_scope = client.post("/admin/comments/bulk", data={
        "ids": [str(ids[20]), str(world["stp_comment"])], "status": "answered"})
    assert out_of_scope.status_code == 404
    assert db.session.get(CommentHandling, ids[20]) is None  # all or nothing


def test_alerts_settings_are_per_office_and_checked(client, world):
    login(client, "bd")
    page = client.get("/admin/alerts?office=BD-KM").get_data(as_text=True)
    assert "data-mail-off" in page and "Bản tổng hợp hằng ngày" in page
    bad = client.post("/admin/alerts?office=BD-KM", data={"email": "khong-phai-thu",
                                                          "kinds": ["digest"]})
    assert bad.status_code == 400 and "phải là một địa chỉ thư điện tử" in bad.get_data(
        as_text=True)
    ok = client.post("/admin/alerts?office=BD-KM", data={"email": "bd@example.vn",
                                                         "kinds": ["digest", "held"]})
    assert ok.status_code == 302
    sub = db.session.scalar(sa.select(AlertSubscription))
    assert (sub.email, sub.digest, sub.held, sub.offline) == ("bd@example.vn", True, True,
                                                              False)
    client.post("/admin/alerts?office=BD-KM", data={"email": "bd@example.vn"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AlertSubscription)) == 0
