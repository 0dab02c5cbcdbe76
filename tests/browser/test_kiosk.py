"""The kiosk in a real browser (Debian's Chromium through Playwright): activation, a full
questionnaire to the thank-you screen and back, idle reset, the offline queue delivering
exactly once, a paused tablet finishing its run and queue first, recovery from an expired
CSRF token and session, accessibility (axe-core) on every screen, tablet sizes, and the
start screen's weight."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from core.extensions import db
from core.models import Response
from core.services import kiosks as kiosk_service
from core.services.offices import get_office, import_offices
from tests.browser.conftest import axe_violations, save_screenshot
from tests.conftest import SMALL_TREE
from tests.helpers import release_all

FAST = {"KIOSK_THANKS_SECONDS": 1, "KIOSK_MIN_SECONDS_BETWEEN": 0, "KIOSK_RETRY_SECONDS": 1}
STEPS = 6  # five dimensions + the suggestions screen
PORTRAIT = {"width": 800, "height": 1280}


class Setup:
    """Offices and one kiosk; keeps the secret it was given."""

    def __init__(self, idle_seconds: int = 60, credential: bool = True) -> None:
        self.idle_seconds, self.credential_wanted = idle_seconds, credential
        self.credential: str | None = None
        self.code: str | None = None

    def __call__(self, app) -> None:
        import_offices(io.StringIO(SMALL_TREE))
        new = kiosk_service.add_kiosk(get_office("BD-KM"), "Quầy 3",
                                      idle_seconds=self.idle_seconds,
                                      with_credential=self.credential_wanted)
        self.credential, self.code = new.credential, new.activation_code


def start_kiosk(live_app_factory, page, idle_seconds: int = 60, **config: Any):
    setup = Setup(idle_seconds)
    server = live_app_factory(setup, **{**FAST, **config})
    page.context.add_cookies([{"name": "sipas_kiosk", "value": setup.credential,
                               "domain": "127.0.0.1", "path": "/kiosk"}])
    page.goto(server.url + "/kiosk/")
    page.wait_for_selector("html.js")
    return server


def rows(server) -> list[Response]:
    """Every answer the server acknowledged (released first, whatever its day)."""
    with server.app.app_context():
        release_all()
        result = list(db.session.scalars(sa.select(Response).order_by(Response.id)))
        db.session.remove()
        return result


def assert_accessible(page, name: str) -> None:
    """axe-core (WCAG 2.1 A/AA): no serious or critical violation. The kiosk is one page, so
    axe is injected once per page load and re-run on each screen."""
    if page.evaluate("typeof window.axe") == "undefined":
        violations = axe_violations(page)
    else:
        result = page.evaluate(
            """async () => await axe.run(document, {runOnly: {type: 'tag',
                 values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})""")
        violations = [{"id": v["id"], "impact": v["impact"],
                       "nodes": [n["target"] for n in v["nodes"]][:5]}
                      for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert violations == [], (name, violations)


def answer_screen(page, step: int, level: str = "5") -> None:
    for fs in page.locator(f"#k-step-{step} fieldset.question").all():
        fs.locator(f"label.choice-{level} span").click()


def run_questionnaire(page, level: str = "5", comment: str | None = None,
                      check_a11y: bool = False) -> None:
    page.get_by_role("link", name="Bắt đầu đánh giá").click()
    for step in range(1, STEPS):
        expect_visible(page, f"#k-step-{step}")
        assert page.locator(f"#k-step-{step} .k-progress").inner_text().startswith(
            f"Phần {step}/{STEPS}")
        answer_screen(page, step, level)
        if check_a11y:
            assert_accessible(page, f"step {step}")
        page.get_by_role("button", name="Tiếp tục").click()
    expect_visible(page, f"#k-step-{STEPS}")
    if comment:
        page.get_by_label("Ý kiến khác").fill(comment)
    if check_a11y:
        assert_accessible(page, "suggestions")
    page.get_by_role("button", name="Gửi đánh giá").click()
    expect_visible(page, "#k-thanks")


def expect_visible(page, selector: str, timeout: float = 5000) -> None:
    page.wait_for_selector(selector, state="visible", timeout=timeout)


def test_activation_then_full_run_to_thank_you_and_auto_reset(live_app_factory, page):
    setup = Setup(credential=False)
    server = live_app_factory(setup, **{**FAST, "KIOSK_THANKS_SECONDS": 5,
                                        "KIOSK_FOLLOWUP_SECONDS": 5})  # a comment: a code
    page.goto(f"{server.url}/kiosk/activate/{setup.code}")
    assert_accessible(page, "activation")
    save_screenshot(page, "kiosk-activate")
    page.get_by_role("button", name="Kích hoạt").click()
    page.wait_for_selector("html.js")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert "UBND phường Kim Mã · Quầy 3" in page.locator(".k-place").inner_text()
    assert_accessible(page, "start")
    save_screenshot(page, "kiosk-start-landscape")

    # "Continue" without answering: a polite message, the questions marked, no advance
    page.get_by_role("link", name="Bắt đầu đánh giá").click()
    page.get_by_role("button", name="Tiếp tục").click()
    assert "Xin Ông/Bà chọn một mức đánh giá" in page.locator("#k-msg").inner_text()
    assert page.locator("#k-step-1 fieldset.k-missing").count() == 4
    assert page.locator("#k-step-1").is_visible()
    assert_accessible(page, "missing answers")
    save_screenshot(page, "kiosk-missing")
    # back from the first part returns to the start screen
    page.get_by_role("button", name="Quay lại").click()
    expect_visible(page, "#k-start")

    run_questionnaire(page, "4", comment="Cán bộ hướng dẫn tận tình", check_a11y=True)
    assert "Xin cảm ơn Ông/Bà!" in page.locator("#k-thanks").inner_text()
    save_screenshot(page, "kiosk-thanks")
    assert_accessible(page, "thanks")
    assert page.locator("#k-thanks").is_visible()  # axe really ran on the thank-you screen
    expect_visible(page, "#k-start", timeout=8000)  # back to the start by itself
    assert page.locator("input[type=radio]:checked").count() == 0
    assert page.locator("textarea").input_value() == ""

    page.wait_for_selector("#k-pending", state="hidden")
    stored = rows(server)
    assert len(stored) == 1
    assert stored[0].answers == "4" * 24 and stored[0].channel == "kiosk"
    assert stored[0].comment == "Cán bộ hướng dẫn tận tình"


def test_back_keeps_answers_within_one_citizen(live_app_factory, page):
    start_kiosk(live_app_factory, page)
    page.get_by_role("link", name="Bắt đầu đánh giá").click()
    answer_screen(page, 1, "3")
    page.get_by_role("button", name="Tiếp tục").click()
    page.get_by_role("button", name="Quay lại").click()
    assert page.locator("#k-step-1 input[type=radio]:checked").count() == 4


def test_idle_reset_discards_an_unfinished_dimension(live_app_factory, page):
    server = start_kiosk(live_app_factory, page, idle_seconds=4)
    page.get_by_role("link", name="Bắt đầu đánh giá").click()
    page.locator("#k-step-1 fieldset.question").first.locator("label.choice-1 span").click()
    assert page.locator("input[type=radio]:checked").count() == 1
    # a warning first; one touch carries on
    expect_visible(page, "#k-idle", timeout=4000)
    assert "Ông/Bà vẫn đang trả lời?" in page.locator("#k-idle").inner_text()
    page.mouse.click(5, 300)
    assert page.locator("#k-idle").is_hidden() and page.locator("#k-step-1").is_visible()
    assert page.locator("input[type=radio]:checked").count() == 1
    expect_visible(page, "#k-start", timeout=6000)
    assert page.locator("#k-idle").is_hidden()
    assert page.locator("input[type=radio]:checked").count() == 0
    page.get_by_role("link", name="Bắt đầu đánh giá").click()
    assert page.locator("#k-step-1 input[type=radio]:checked").count() == 0
    assert rows(server) == []


def test_offline_queue_delivers_each_submission_exactly_once(live_app_factory, page):
    server = start_kiosk(live_app_factory, page)
    calls = {"n": 0}

    def network_down(route):
        calls["n"] += 1
        route.abort("internetdisconnected")

    page.route("**/api/v1/responses", network_down)
    run_questionnaire(page, "5")
    expect_visible(page, "#k-start")
    run_questionnaire(page, "2")
    expect_visible(page, "#k-start")
    expect(page.locator("#k-pending-n")).to_have_text("2")
    assert page.locator("#k-pending").is_visible()
    assert calls["n"] >= 1 and rows(server) == []
    # the queue survives a reload (durable browser storage)
    page.reload()
    page.wait_for_selector("html.js")
    expect(page.locator("#k-pending-n")).to_have_text("2")
    save_screenshot(page, "kiosk-offline-pending")
    # the heartbeat (not blocked) tells the server how many answers wait on the tablet
    for _ in range(50):
        with server.app.app_context():
            info = kiosk_service.list_kiosks()[0]
            db.session.remove()
        if info.pending_reported == 2:
            break
        page.wait_for_timeout(100)
    assert info.pending_reported == 2 and info.last_seen_at is not None

    # the server is back but the first reply is lost on the way: the tablet re-sends it,
    # the server answers 200 and stores nothing twice
    lost = {"n": 0}

    def reply_lost(route):
        if lost["n"] == 0:
            lost["n"] += 1
            route.fetch()  # reaches the server, which stores it
            route.abort("connectionreset")
        else:
            route.continue_()

    page.unroute("**/api/v1/responses")
    page.route("**/api/v1/responses", reply_lost)
    page.wait_for_selector("#k-pending", state="hidden", timeout=15000)
    stored = rows(server)
    assert len(stored) == 2 and lost["n"] == 1
    assert sorted(r.answers for r in stored) == ["2" * 24, "5" * 24]
    assert len({r.uuid for r in stored}) == 2


def test_all_no_answer_is_thanked_and_dropped_silently_by_the_server_rule(live_app_factory,
                                                                         page):
    """The tablet has no rule of its own: it sends the run, the server answers the domain
    error "empty", and the tablet drops it without keeping it as a rejected item."""
    server = start_kiosk(live_app_factory, page)
    replies: list[tuple[int, str]] = []
    page.on("response", lambda r: replies.append((r.status, r.text()))
            if r.url.endswith("/api/v1/responses") else None)
    run_questionnaire(page, "0")
    page.wait_for_selector("#k-pending", state="hidden")
    page.wait_for_timeout(300)
    assert [(status, '"error":"empty"' in body.replace(" ", "")) for status, body in replies] \
        == [(400, True)]
    assert page.evaluate("localStorage.getItem('sipas.kiosk.rejected.v1')") in (None, "[]")
    assert rows(server) == []
    run_questionnaire(page, "4")  # the next citizen is served as usual
    page.wait_for_selector("#k-pending", state="hidden")
    assert [r.answers for r in rows(server)] == ["4" * 24]


QUEUE, REJECTED = "sipas.kiosk.queue.v1", "sipas.kiosk.rejected.v1"


def queue_ids(page) -> list[str]:
    """The ids in the tablet's offline queue (IndexedDB, read through the page's queue)."""
    return page.evaluate("async () => (await document.getElementById('kiosk').sipasQueue"
                         ".load()).map(i => i.payload.id)")


def test_a_final_refusal_is_set_aside_and_reported_not_retried_forever(live_app_factory,
                                                                       page):
    """A 4xx (other than 429) can never succeed: the tablet sends it once, sets it aside
    (id, status and error code; not the answers) and reports the count in its heartbeat.
    Before, a 403, 404, 409, 410 or 422 was re-sent every few seconds for ever."""
    server = start_kiosk(live_app_factory, page)
    refusals = {"403": 403, "404": 404, "409": 409, "410": 410, "422": 422, "401": 401}
    calls: dict[str, int] = {}

    def refuse(route):
        rid = route.request.post_data_json["id"]
        calls[rid] = calls.get(rid, 0) + 1
        status = refusals.get(rid, 403)
        route.fulfill(status=status, content_type="application/json",
                      body=json.dumps({"error": f"refused_{status}", "message": "x"}))

    page.route("**/api/v1/responses", refuse)
    run_questionnaire(page, "5")  # one citizen's run, refused with a 403
    # and five more waiting on the tablet, refused with other statuses
    page.evaluate("""async (ids) => {
        await document.getElementById('kiosk').sipasQueue.update(q => {
            for (const id of ids) {
                q.push({payload: {id, instrument: 'hanoi-2022', answers: {'I.1': 4}},
                        tries: 0, notBefore: 0});
            }
            return q;
        });
    }""", [k for k in refusals if k != "403"])
    for _ in range(150):  # (wait_for_function evaluates a string: the page's CSP forbids it)
        if len(page.evaluate(f"JSON.parse(localStorage.getItem('{REJECTED}') || '[]')")) == 6:
            break
        page.wait_for_timeout(100)
    page.wait_for_timeout(3000)  # three retry intervals (KIOSK_RETRY_SECONDS=1)
    assert queue_ids(page) == [] and page.locator("#k-pending").is_hidden()
    assert sorted(calls.values()) == [1] * 6, calls  # each sent once, never again
    aside = page.evaluate(f"JSON.parse(localStorage.getItem('{REJECTED}'))")
    assert sorted(r["status"] for r in aside) == sorted(refusals.values())
    assert {r["error"] for r in aside} == {f"refused_{s}" for s in refusals.values()}
    assert all(set(r) == {"id", "status", "error", "at"} for r in aside)  # no answers kept
    for _ in range(100):
        with server.app.app_context():
            info = kiosk_service.list_kiosks()[0]
            db.session.remove()
        if info.rejected_reported == 6:
            break
        page.wait_for_timeout(100)
    assert info.rejected_reported == 6
    assert rows(server) == []


def test_network_errors_5xx_and_429_are_retried_until_stored(live_app_factory, page):
    server = start_kiosk(live_app_factory, page)
    script = [("abort", None), (503, None), (500, None), (429, "1")]
    seen: list[str] = []

    def flaky(route):
        step = script[len(seen)] if len(seen) < len(script) else ("through", None)
        seen.append(str(step[0]))
        if step[0] == "abort":
            route.abort("connectionreset")
        elif step[0] == "through":
            route.continue_()
        else:
            route.fulfill(status=step[0], content_type="application/json",
                          headers={"Retry-After": step[1]} if step[1] else {},
                          body='{"error": "busy", "message": "x"}')

    page.route("**/api/v1/responses", flaky)
    run_questionnaire(page, "4")
    page.wait_for_selector("#k-pending", state="hidden", timeout=20000)
    assert seen == ["abort", "503", "500", "429", "through"]
    assert [r.answers for r in rows(server)] == ["4" * 24]
    assert page.evaluate(f"localStorage.getItem('{REJECTED}')") in (None, "[]")


def test_expired_csrf_token_and_session_do_not_disturb_the_kiosk(live_app_factory, page):
    server = start_kiosk(live_app_factory, page, WTF_CSRF_TIME_LIMIT=1,
                         PERMANENT_SESSION_LIFETIME=1)
    page.wait_for_timeout(2100)  # the page's token has expired...
    page.context.clear_cookies(name="session")  # ...and so has the session
    run_questionnaire(page, "3")
    assert page.locator("#k-thanks").is_visible()
    assert page.locator(".field-error").count() == 0
    page.wait_for_selector("#k-pending", state="hidden")
    assert [r.answers for r in rows(server)] == ["3" * 24]


@pytest.fixture
def nojs_page(browser):
    context = browser.new_context(java_script_enabled=False, locale="vi-VN",
                                  viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def test_without_javascript_the_form_submits_and_recovers_from_an_expired_token(
        live_app_factory, nojs_page, page):
    js_page, page = page, nojs_page
    setup = Setup()
    server = live_app_factory(setup, WTF_CSRF_TIME_LIMIT=3, **FAST)
    page.context.add_cookies([{"name": "sipas_kiosk", "value": setup.credential,
                               "domain": "127.0.0.1", "path": "/kiosk"}])
    page.goto(server.url + "/kiosk/")
    assert page.locator("#k-step-5").is_visible() and page.locator("#k-thanks").is_hidden()
    save_screenshot(page, "kiosk-nojs-form")
    for step in range(1, STEPS):
        answer_screen(page, step, "4")
    page.wait_for_timeout(3100)  # the token expires while the citizen answers
    page.get_by_role("button", name="Gửi đánh giá").click()
    assert "vẫn được giữ nguyên" in page.locator("#k-notice").inner_text()
    assert page.locator("input[type=radio]:checked").count() == 24
    assert page.locator(".field-error").count() == 0 and rows(server) == []
    page.get_by_role("button", name="Gửi đánh giá").click()
    assert "Xin cảm ơn Ông/Bà!" in page.locator("h1").inner_text()
    assert [r.answers for r in rows(server)] == ["4" * 24]

    # axe needs JavaScript in the page: check the same no-JS layout in a page whose
    # kiosk.js is blocked and whose <noscript> stylesheet is applied by hand
    js_page.context.add_cookies([{"name": "sipas_kiosk", "value": setup.credential,
                                  "domain": "127.0.0.1", "path": "/kiosk"}])
    js_page.route("**/kiosk.js", lambda route: route.abort())
    js_page.goto(server.url + "/kiosk/")
    js_page.add_style_tag(url=server.url + "/kiosk/static/kiosk/nojs.css")
    assert js_page.locator("#k-step-5").is_visible()
    assert_accessible(js_page, "no-js form")
    js_page.goto(server.url + "/kiosk/thanks")
    assert_accessible(js_page, "no-js thanks")


@pytest.mark.parametrize("page", [PORTRAIT, {"width": 1280, "height": 800}], indirect=True,
                         ids=["portrait", "landscape"])
def test_tablet_sizes_touch_targets_and_text(live_app_factory, page):
    start_kiosk(live_app_factory, page)
    width = page.viewport_size["width"]
    name = "portrait" if width < 1000 else "landscape"
    assert_accessible(page, f"start {name}")
    save_screenshot(page, f"kiosk-start-{name}")
    page.get_by_role("link", name="Bắt đầu đánh giá").click()
    save_screenshot(page, f"kiosk-step1-{name}")
    sizes = page.evaluate("""() => {
        const visible = el => el.getClientRects().length > 0;
        const targets = [...document.querySelectorAll('label.choice span, .k-button, button')]
            .filter(visible).map(el => el.getBoundingClientRect())
            .map(r => [r.width, r.height]);
        const texts = [...document.querySelectorAll('#kiosk *')]
            .filter(el => visible(el) && [...el.childNodes].some(
                n => n.nodeType === 3 && n.textContent.trim()))
            .map(el => parseFloat(getComputedStyle(el).fontSize));
        return {targets, texts,
                overflow: document.documentElement.scrollWidth > window.innerWidth};
    }""")
    assert sizes["targets"] and all(w >= 48 and h >= 48 for w, h in sizes["targets"])
    assert sizes["texts"] and min(sizes["texts"]) >= 18
    assert not sizes["overflow"]


def test_start_screen_transfer_is_small_and_served_locally(live_app_factory, page):
    transferred: list[tuple[str, int]] = []
    page.on("requestfinished", lambda req: transferred.append(
        (req.url, len(req.response().body()))))
    server = start_kiosk(live_app_factory, page)
    page.wait_for_load_state("networkidle")
    assert transferred and all(url.startswith(server.url) for url, _ in transferred)
    total = sum(n for _, n in transferred)
    assert total <= 150 * 1024, transferred


def test_not_activated_and_revoked_tablets(live_app_factory, page):
    setup = Setup()
    server = live_app_factory(setup, **FAST)
    page.goto(server.url + "/kiosk/")
    assert "chưa được kích hoạt" in page.locator("h1").inner_text()
    assert_accessible(page, "not activated")
    save_screenshot(page, "kiosk-not-activated")

    page.context.add_cookies([{"name": "sipas_kiosk", "value": setup.credential,
                               "domain": "127.0.0.1", "path": "/kiosk"}])
    page.goto(server.url + "/kiosk/")
    page.wait_for_selector("html.js")
    for _ in range(100):  # the page's first heartbeat (after its queue opened) went through
        with server.app.app_context():
            seen = kiosk_service.list_kiosks()[0].last_seen_at
            db.session.remove()
        if seen is not None:
            break
        page.wait_for_timeout(100)
    with server.app.app_context():
        kiosk_service.revoke_kiosk(1, actor="tester")
        db.session.remove()
    run_questionnaire(page, "5")  # the citizen is thanked; the refused answer is set aside
    page.wait_for_selector("h1:has-text('chưa được kích hoạt')", timeout=8000)
    assert rows(server) == []


def _next_heartbeat(page, timeout: float = 12000) -> dict:
    """The reply of the tablet's next heartbeat."""
    resp = page.wait_for_event(
        "response", lambda r: r.url.endswith("/api/v1/kiosk/heartbeat"), timeout=timeout)
    return resp.json()


def test_a_paused_tablet_finishes_the_run_and_its_queue_before_its_paused_screen(
        live_app_factory, page):
    server = start_kiosk(live_app_factory, page, KIOSK_HEARTBEAT_SECONDS=5)
    page.get_by_role("link", name="Bắt đầu đánh giá").click()
    expect_visible(page, "#k-step-1")
    with server.app.app_context():
        kiosk_service.pause_kiosk(1, paused=True, actor="tester")
        db.session.remove()
    # a citizen is answering: the heartbeat says paused, the run goes on undisturbed
    while not _next_heartbeat(page)["paused"]:
        pass
    page.wait_for_timeout(500)
    expect(page.locator("#k-step-1")).to_be_visible()
    # the answer cannot be sent yet: back at the start screen, the page waits for its queue
    page.route("**/api/v1/responses", lambda route: route.abort("internetdisconnected"))
    for step in range(1, STEPS):
        answer_screen(page, step, "4")
        page.get_by_role("button", name="Tiếp tục").click()
    expect_visible(page, f"#k-step-{STEPS}")
    page.get_by_role("button", name="Gửi đánh giá").click()
    expect_visible(page, "#k-start")
    expect(page.locator("#k-pending-n")).to_have_text("1")
    assert _next_heartbeat(page)["paused"] is True
    page.wait_for_timeout(500)
    expect(page.locator("#k-start")).to_be_visible()
    # the network is back: the answer is delivered, then the paused screen shows
    page.unroute("**/api/v1/responses")
    expect(page.locator("h1")).to_have_text("Máy tạm ngừng khảo sát", timeout=15000)
    assert [r.answers for r in rows(server)] == ["4" * 24]
    expect(page.locator("main")).to_contain_text("phiếu hẹn", use_inner_text=True)
    assert_accessible(page, "paused")
    save_screenshot(page, "kiosk-paused")
    # resumed: the questionnaire comes back by itself (paused.js asks every heartbeat
    # period, here 5 s)
    with server.app.app_context():
        kiosk_service.pause_kiosk(1, paused=False, actor="tester")
        db.session.remove()
    expect(page.get_by_role("link", name="Bắt đầu đánh giá")).to_be_visible(timeout=15000)


CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def test_works_under_a_strict_content_security_policy(live_app_factory, browser):
    """Scripts and styles only from 'self' (no inline script, handler or style attribute)."""
    setup = Setup()

    def with_csp(app):
        setup(app)
        app.after_request(lambda resp: (resp.headers.__setitem__(
            "Content-Security-Policy", CSP), resp)[1])

    server = live_app_factory(with_csp, **FAST)
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    context.add_cookies([{"name": "sipas_kiosk", "value": setup.credential,
                          "domain": "127.0.0.1", "path": "/kiosk"}])
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda msg: refused.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    try:
        page.goto(server.url + "/kiosk/")
        page.wait_for_selector("html.js")
        run_questionnaire(page, "5")
        expect_visible(page, "#k-start")
        page.wait_for_selector("#k-pending", state="hidden")
        assert refused == []
        assert [r.answers for r in rows(server)] == ["5" * 24]
    finally:
        context.close()


CONTACT_SAMPLES = ["0912 345 678", "0912.345.678", "+84 912 345 678", "0084912345678",
                   "84 (0) 912 345 678", "(024) 3825 1234", "912345678", "0912", "091234567890",
                   "an@hanoi.gov.vn", "An.Nguyen@Example.VN", "an@localhost", "an@@x.vn",
                   "an @x.vn", "gọi tôi", "", "   ", "0912345678" + " " * 250,
                   "a" * 65 + "@x.vn", "٠٩١٢٣٤٥٦٧٨", "+84-24-3825-1234", "+8491234567"]


def test_a_request_to_be_contacted_from_the_kiosk(live_app_factory, page):
    """The consent box and the contact on the suggestions screen: the script refuses what the
    server would refuse (so a run is never set aside for its contact), the request reaches the
    server apart from the answer, and the next citizen finds both fields empty."""
    from core.models import ContactRequest, PendingAnswer
    from core.personal_data import normalize_contact

    server = start_kiosk(live_app_factory, page)
    # the script's rule is the server's
    script = page.evaluate("samples => samples.map(s => document.getElementById('kiosk')"
                           ".sipasContactOk(s))", CONTACT_SAMPLES)
    assert script == [normalize_contact(s) is not None for s in CONTACT_SAMPLES]

    page.get_by_role("link", name="Bắt đầu đánh giá").click()
    for step in range(1, STEPS):
        answer_screen(page, step, "4")
        page.get_by_role("button", name="Tiếp tục").click()
    expect_visible(page, f"#k-step-{STEPS}")
    consent = page.locator("input[name=consent]")
    assert not consent.is_checked()
    assert_accessible(page, "suggestions with the contact request")
    page.get_by_label("Ý kiến khác").fill("Hồ sơ trễ hẹn, số của tôi 0987 654 321.")
    contact = page.locator("input[name=contact]")
    contact.fill("0912 345 678")
    page.get_by_role("button", name="Gửi đánh giá").click()  # a contact without consent
    assert "đánh dấu ô đồng ý" in page.locator("#k-msg").inner_text()
    assert page.locator(f"#k-step-{STEPS}").is_visible()
    consent.check()
    contact.fill("0912")
    page.get_by_role("button", name="Gửi đánh giá").click()
    assert "phải là số điện thoại" in page.locator("#k-msg").inner_text()
    assert page.evaluate("localStorage.getItem('sipas.kiosk.queue.v1') || '[]'") == "[]"
    contact.fill("+84 912 345 678")
    page.get_by_role("button", name="Gửi đánh giá").click()
    expect_visible(page, "#k-thanks")
    page.get_by_role("button", name="Về màn hình đầu").click()
    expect_visible(page, "#k-start")
    assert not consent.is_checked() and contact.input_value() == ""
    for _ in range(100):  # sent and acknowledged (the page's CSP forbids wait_for_function)
        if not queue_ids(page):
            break
        page.wait_for_timeout(100)
    assert queue_ids(page) == []
    with server.app.app_context():
        [req] = db.session.scalars(sa.select(ContactRequest)).all()
        assert (req.contact, req.comment) == ("0912345678",
                                              "Hồ sơ trễ hẹn, số của tôi [đã ẩn].")
        assert db.session.scalars(sa.select(PendingAnswer.comment)).all() == [None]
        db.session.remove()
