"""Open redirects through ``next``: every endpoint that takes one (the language switch, sign-in,
handling a comment) sends the browser only to a page of this site (of the results area for
the admin ones), never to another host, and a hostile value is never a 500 — in particular
not after the comment's update was committed.

The payloads are the ways browsers turn a "path" into another host (tabs and newlines
dropped, ``\\`` read as ``/``, IDN dots and full-width slashes normalised), encoded
variants, ``..`` segments that leave the admin area and chain into the language switch,
schemes, and header injection."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa

from core.extensions import db
from core.models import CommentHandling
from core.redirects import MAX_LENGTH, is_safe_next, safe_next
from tests.admin import fixtures as admin_fixtures
from tests.admin.fixtures import login

world = admin_fixtures.world

EVIL = "evil.example"
PAYLOADS = [
    # tabs, newlines and carriage returns are dropped by browsers (and by urlsplit)
    f"/\t/{EVIL}", f"/\n/{EVIL}", f"/\r/{EVIL}", f"\t//{EVIL}", f"/\x0b/{EVIL}", f"/\x0c/{EVIL}",
    f"/\x00/{EVIL}", f" //{EVIL}", f"/ /{EVIL}",
    # header injection (a newline in Location was a 500)
    "/admin/\r\nSet-Cookie: sipas=evil", f"/admin/x\nLocation: //{EVIL}", "/admin/%0a",
    # protocol-relative and backslashes (read as slashes)
    f"//{EVIL}", f"///{EVIL}", f"/\\{EVIL}", f"\\\\{EVIL}", f"/\\/{EVIL}", f"\\/{EVIL}",
    f"/admin/\\..\\..\\/{EVIL}",
    # encoded slashes, backslashes, dots and controls, once and twice
    f"/%2F{EVIL}", f"/%2f%2f{EVIL}", f"/%5C{EVIL}", f"/%5c%5c{EVIL}", f"/%252F%252F{EVIL}",
    f"/%09/{EVIL}", "/admin/%2e%2e/lang/en", "/admin/%2E%2E%2Flang%2Fen", "/admin/%ff",
    # dot segments: out of the admin area, chained into the language switch's redirect
    f"/admin/../lang/en?next=/%09/{EVIL}", f"/admin/..//{EVIL}", "/admin/./../lang/en",
    "/admin/..", f"/.//{EVIL}",
    # schemes
    f"https://{EVIL}", f"http:{EVIL}", f"https:/\\{EVIL}", "javascript:alert(1)",
    "JaVaScRiPt:alert(document.cookie)", "data:text/html,<script>alert(1)</script>",
    f"{EVIL}", f"@{EVIL}",
    # IDN dots and full-width slashes, normalised in host names
    "//evil\u3002example", f"/\uff0f{EVIL}", f"\uff0f\uff0f{EVIL}", "//evil\uff0eexample",
    "//evil\uff61example", f"/\u2215\u2215{EVIL}",
    # a target longer than any link of the site
    "/admin/" + "a" * MAX_LENGTH,
]
#: accepted by /lang (a page of the site) but outside the results area
NOT_ADMIN = ["/", "/s/abc", "/kiosk/", "/administrator", "/admin-evil"]
SAFE_ADMIN = ["/admin/", "/admin", "/admin/comments?office=BD&month=2026-10#comment-5",
              "/admin/?office=BD-KM&month=2026-10&sort=name",
              "/admin/login?next=%2Fadmin%2Fcomments"]


def test_the_payload_list_is_long_enough():
    assert len(set(PAYLOADS)) == len(PAYLOADS) >= 30


@pytest.mark.parametrize("payload", PAYLOADS)
def test_safe_next_refuses_every_payload(payload):
    assert not is_safe_next(payload)
    assert not is_safe_next(payload, within="/admin")
    assert safe_next(payload, "/fallback") == "/fallback"


def test_safe_next_keeps_the_sites_own_links():
    for target in SAFE_ADMIN:
        assert safe_next(target, "/x", within="/admin") == target
        assert safe_next(target, "/x") == target
    for target in NOT_ADMIN:
        assert safe_next(target, "/x") == target
        assert safe_next(target, "/x", within="/admin") == "/x"
    for odd in (None, "", 5, ["/admin/"]):
        assert safe_next(odd, "/x") == "/x"


def assert_stays_on_site(location: str, expected: str) -> None:
    assert location == expected
    absolute = urljoin("http://localhost/admin/comments", location)
    assert urlsplit(absolute).netloc == "localhost", location


def test_language_switch_never_leaves_the_site(client):
    for payload in PAYLOADS:
        resp = client.get("/lang/en", query_string={"next": payload})
        assert resp.status_code == 302, (payload, resp.status_code)
        assert_stays_on_site(resp.headers["Location"], "/")
        assert "lang=en" in resp.headers.get("Set-Cookie", "")
    # the links of the page the visitor is on are kept
    for target in [*SAFE_ADMIN, *NOT_ADMIN]:
        resp = client.get("/lang/vi", query_string={"next": target})
        assert resp.headers["Location"] == target


def test_sign_in_goes_only_to_a_page_of_the_results_area(client, world):
    for payload in [*PAYLOADS, *NOT_ADMIN]:
        assert client.get("/admin/login", query_string={"next": payload}).status_code == 200
        resp = client.post("/admin/login", query_string={"next": payload},
                           data={"username": "bd", "password": admin_fixtures.PASSWORDS["bd"]})
        assert resp.status_code == 302, (payload, resp.status_code)
        assert_stays_on_site(resp.headers["Location"], "/admin/")
    target = SAFE_ADMIN[2]
    resp = client.post("/admin/login", query_string={"next": target},
                       data={"username": "bd", "password": admin_fixtures.PASSWORDS["bd"]})
    assert resp.headers["Location"] == target


def test_handling_a_comment_with_a_hostile_next_is_saved_once_and_redirected_home(client,
                                                                                 world):
    """The update is committed and the browser goes back to the comments page; before, a
    newline in ``next`` committed the update and then answered 500."""
    login(client, "bd")
    rid = world["km_comment"]
    statuses = ["in_progress", "answered", "not_actionable", "new"]
    for i, payload in enumerate([*PAYLOADS, *NOT_ADMIN]):
        status = statuses[i % len(statuses)]
        resp = client.post(f"/admin/comments/{rid}", query_string={"next": payload},
                           data={f"c{rid}-status": status, f"c{rid}-internal_note": f"n{i}"})
        assert resp.status_code == 302, (payload, resp.status_code)
        # the comments page, with the confirmation shown in the saved comment
        assert_stays_on_site(resp.headers["Location"],
                             f"/admin/comments?saved={rid}#comment-{rid}")
        db.session.expire_all()
        handling = db.session.get(CommentHandling, rid)
        assert (handling.status, handling.internal_note) == (status, f"n{i}")
    resp = client.post(f"/admin/comments/{rid}", query_string={"next": SAFE_ADMIN[2]},
                       data={f"c{rid}-status": "answered"})
    assert resp.headers["Location"] == (f"/admin/comments?office=BD&month=2026-10&saved={rid}"
                                        f"#comment-{rid}")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CommentHandling)) == 1


def test_revoking_a_token_goes_back_only_to_a_page_of_the_results_area(client, world):
    """The one redirect that follows the ``Referer`` instead of ``next``: the same check."""
    from core.services.accounts import create_token

    token = create_token(world["users"]["bd"], "x", actor="test").token.id
    login(client, "bd")
    # what a Referer header can carry (no CR, LF or NUL; Latin-1)
    sendable = [p for p in PAYLOADS if not set(p) & {"\r", "\n", "\x00"}
                and all(ord(ch) < 256 for ch in p)]
    referrers = [f"http://localhost{p}" if p.startswith("/") else p for p in sendable]
    referrers += [f"http://{EVIL}/admin/", f"http://localhost.{EVIL}/admin/",
                  f"https://localhost@{EVIL}/admin/", "http://localhost/kiosk/"]
    assert len(referrers) >= 30
    for referrer in referrers:
        resp = client.post(f"/admin/tokens/{token}/revoke", headers={"Referer": referrer})
        assert resp.status_code == 302, (referrer, resp.status_code)
        assert_stays_on_site(resp.headers["Location"], "/admin/tokens")
    resp = client.post(f"/admin/tokens/{token}/revoke",
                       headers={"Referer": "http://localhost/admin/tokens?x=1"})
    assert resp.headers["Location"] == "/admin/tokens?x=1"
