"""The kinder kiosk in a real browser: walk-away answers kept as one partial response (online
and offline), the idle warning modal that eats the dismissing tap, and the portrait order of
the levels."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from core.extensions import db
from core.services import kiosks as kiosk_service
from tests.browser.conftest import save_screenshot
from tests.browser.test_kiosk import (
    PORTRAIT,
    answer_screen,
    assert_accessible,
    expect_visible,
    rows,
    run_questionnaire,
    start_kiosk,
)


def _walk_away_after_two(page) -> None:
    page.get_by_role("link", name="Bắt đầu đánh giá").click()
    answer_screen(page, 1, "5")
    page.get_by_role("button", name="Tiếp tục").click()
    answer_screen(page, 2, "3")
    page.get_by_role("button", name="Tiếp tục").click()
    # the third dimension half answered, then the citizen leaves
    page.locator("#k-step-3 fieldset.question").first.locator("label.choice-1 span").click()
    expect_visible(page, "#k-start", timeout=8000)


def test_walk_away_after_two_dimensions_is_stored_once_as_partial(live_app_factory, page):
    server = start_kiosk(live_app_factory, page, idle_seconds=4)
    _walk_away_after_two(page)
    page.wait_for_selector("#k-pending", state="hidden", timeout=10000)
    page.wait_for_timeout(1500)  # a later reset or retry must not send it again
    stored = rows(server)
    assert len(stored) == 1 and stored[0].partial is True
    # I (4 criteria) at 5, II (5) at 3, nothing of III (its first answer was not finished)
    assert stored[0].answers == "5555" + "33333" + "0" * 15
    assert stored[0].comment is None and stored[0].expectations is None


def test_walk_away_while_offline_is_stored_once_when_back(live_app_factory, page):
    server = start_kiosk(live_app_factory, page, idle_seconds=4)
    page.route("**/api/v1/responses", lambda route: route.abort("internetdisconnected"))
    _walk_away_after_two(page)
    expect(page.locator("#k-pending-n")).to_have_text("1")
    assert rows(server) == []
    page.unroute("**/api/v1/responses")
    page.wait_for_selector("#k-pending", state="hidden", timeout=15000)
    stored = rows(server)
    assert len(stored) == 1 and stored[0].partial is True


def test_only_no_answer_or_unfinished_dimensions_send_nothing(live_app_factory, page):
    server = start_kiosk(live_app_factory, page, idle_seconds=4)
    page.get_by_role("link", name="Bắt đầu đánh giá").click()
    answer_screen(page, 1, "0")  # "Không trả lời" everywhere: not a finished dimension
    page.get_by_role("button", name="Tiếp tục").click()
    answer_screen(page, 2, "4")  # answered but never left: not finished
    expect_visible(page, "#k-start", timeout=8000)
    page.wait_for_timeout(1000)
    assert page.locator("#k-pending").is_hidden()
    assert rows(server) == []


def test_idle_modal_counts_down_and_eats_the_dismissing_tap(live_app_factory, page):
    # 12 s idle: the warning after 6 s, leaving 6 s for the checks below on a busy machine
    start_kiosk(live_app_factory, page, idle_seconds=12)
    page.get_by_role("link", name="Bắt đầu đánh giá").click()
    target = page.locator("#k-step-1 fieldset.question").nth(1).locator("label.choice-5 span")
    box = target.bounding_box()
    expect_visible(page, "#k-idle", timeout=10000)
    n = int(page.locator("#k-idle-n").inner_text())
    assert 1 <= n <= 6
    assert page.get_by_role("alertdialog").is_visible()
    assert page.get_by_role("button", name="Tôi vẫn đang trả lời").is_visible()
    assert_accessible(page, "idle modal")
    save_screenshot(page, "kiosk-idle-modal")
    # the tap lands where an answer is, under the modal: it dismisses the modal only
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert page.locator("#k-idle").is_hidden()
    assert page.locator("input[type=radio]:checked").count() == 0
    assert page.locator("#k-step-1").is_visible()
    # the big button works as well, and the next tap then reaches the answers
    expect_visible(page, "#k-idle", timeout=10000)
    page.get_by_role("button", name="Tôi vẫn đang trả lời").click()
    assert page.locator("#k-idle").is_hidden()
    target.click()
    assert page.locator("input[type=radio]:checked").count() == 1


@pytest.mark.parametrize("page", [PORTRAIT], indirect=True)
def test_portrait_keeps_the_levels_in_order_in_one_row_or_column(live_app_factory, page):
    start_kiosk(live_app_factory, page)
    page.get_by_role("link", name="Bắt đầu đánh giá").click()
    boxes = page.evaluate("""() => [...document.querySelectorAll(
        '#k-step-1 fieldset.question:first-of-type label.choice span')].map(s => {
            const r = s.getBoundingClientRect();
            return {text: s.textContent.trim(), x: r.x, y: r.y, w: r.width, h: r.height}; })""")
    texts = [b["text"] for b in boxes]
    assert texts == ["Rất hài lòng", "Hài lòng", "Bình thường", "Không hài lòng",
                     "Rất không hài lòng", "Không trả lời / Không áp dụng"], texts
    same_row = len({round(b["y"]) for b in boxes}) == 1
    same_col = len({round(b["x"]) for b in boxes}) == 1
    assert same_row or same_col, boxes
    key = "x" if same_row else "y"
    assert [b[key] for b in boxes] == sorted(b[key] for b in boxes)
    faces = page.evaluate("""() => [...document.querySelectorAll(
        '#k-step-1 fieldset.question:first-of-type label.choice span')].slice(0, 5).map(
            s => parseFloat(getComputedStyle(s, '::before').width))""")
    assert min(faces) >= 56, faces
    save_screenshot(page, "kiosk-step1-portrait-order")


def test_landscape_no_criterion_hides_behind_the_navigation_bar(live_app_factory, page):
    """1280x800: every question of a screen is above the navigation bar, or a visible "more
    below" cue says there is more; scrolled to the end, the last one is above the bar."""
    start_kiosk(live_app_factory, page)
    page.get_by_role("link", name="Bắt đầu đánh giá").click()
    measure = """(step) => {
        const nav = document.getElementById('k-nav').getBoundingClientRect().top;
        const qs = [...document.querySelectorAll('#k-step-' + step + ' fieldset.question')];
        return {hidden: qs.filter(q => q.getBoundingClientRect().bottom > nav + 1).length,
                more: !document.getElementById('k-more').hidden};
    }"""
    for step in range(1, 6):
        expect_visible(page, f"#k-step-{step}")
        state = page.evaluate(measure, step)
        assert state["hidden"] == 0 or state["more"], (step, state)
        if step in (1, 4):  # four criteria fit at once, I.4 and IV.4 included
            assert state["hidden"] == 0 and not state["more"], (step, state)
        if step in (1, 3):
            save_screenshot(page, f"kiosk-step{step}-landscape-fit")
        if state["more"]:
            page.get_by_role("button", name="Còn câu hỏi ở phía dưới").click()
            page.wait_for_timeout(800)
            page.mouse.wheel(0, 2000)
            page.wait_for_timeout(500)
            state = page.evaluate(measure, step)
            assert state["hidden"] == 0 and not state["more"], (step, state)
        answer_screen(page, step, "4")
        page.get_by_role("button", name="Tiếp tục").click()
    # the suggestions screen: the send button is in the navigation bar, in reach; an
    # optional answer can be cleared
    expect_visible(page, "#k-step-6")
    send = page.get_by_role("button", name="Gửi đánh giá")
    box = send.bounding_box()
    assert box["y"] + box["height"] <= page.viewport_size["height"]
    first = page.locator("#k-step-6 fieldset.question").first
    first.locator("label.choice span").first.click()
    assert first.locator("input:checked").count() == 1
    first.get_by_role("button", name="Bỏ chọn câu trả lời này").click()
    assert first.locator("input:checked").count() == 0
    assert first.get_by_role("button", name="Bỏ chọn câu trả lời này").is_hidden()
    save_screenshot(page, "kiosk-extras-landscape")
    send.click()
    expect_visible(page, "#k-thanks")


def wait_for_offline_shell(page) -> None:
    for _ in range(100):
        if page.evaluate("() => Boolean(navigator.serviceWorker.controller)"):
            return
        page.wait_for_timeout(100)
    raise AssertionError("the service worker never took control of the kiosk page")


def test_offline_reload_then_two_answers_are_stored_exactly_once(live_app_factory, page):
    """The network is blocked, the tablet reloads: the offline shell shows the questionnaire;
    two citizens answer; the network comes back: exactly two rows."""
    server = start_kiosk(live_app_factory, page)
    wait_for_offline_shell(page)
    # the heartbeat reports the offline shell, shown on the tablets page
    for _ in range(100):
        with server.app.app_context():
            info = kiosk_service.list_kiosks()[0]
            db.session.remove()
        if info.offline_shell_reported:
            break
        page.reload()
        page.wait_for_selector("html.js")
    assert info.offline_shell_reported is True
    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector("html.js")
    assert page.locator("#k-start").is_visible()
    save_screenshot(page, "kiosk-offline-reload")
    run_questionnaire(page, "5")
    expect_visible(page, "#k-start", timeout=8000)
    run_questionnaire(page, "3")
    expect_visible(page, "#k-start", timeout=8000)
    expect(page.locator("#k-pending-n")).to_have_text("2")
    assert rows(server) == []
    # a restart while still offline keeps them
    page.reload()
    page.wait_for_selector("html.js")
    expect(page.locator("#k-pending-n")).to_have_text("2")
    page.context.set_offline(False)
    page.wait_for_selector("#k-pending", state="hidden", timeout=20000)
    page.wait_for_timeout(1500)
    stored = rows(server)
    assert sorted(r.answers for r in stored) == ["3" * 24, "5" * 24]


def test_a_queue_left_in_local_storage_moves_to_indexeddb(live_app_factory, page):
    """A tablet upgraded with answers waiting in the old localStorage queue sends them."""
    import uuid

    ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    items = [{"payload": {"id": i, "instrument": "hanoi-2022", "answers": {"I.1": 4}},
              "tries": 0, "notBefore": 0} for i in ids]
    page.context.add_init_script(
        "if (!sessionStorage.getItem('seeded')) { sessionStorage.setItem('seeded', '1');"
        f" localStorage.setItem('sipas.kiosk.queue.v1', {json.dumps(json.dumps(items))}); }}")
    page.route("**/api/v1/responses", lambda route: route.abort("internetdisconnected"))
    server = start_kiosk(live_app_factory, page)
    expect(page.locator("#k-pending-n")).to_have_text("2")
    assert page.evaluate("localStorage.getItem('sipas.kiosk.queue.v1')") is None
    page.unroute("**/api/v1/responses")
    page.wait_for_selector("#k-pending", state="hidden", timeout=15000)
    assert [r.answers[0] for r in rows(server)] == ["4", "4"]


SPEECH_STUB = """(() => {
  const voices = %s;
  window.__spoken = [];
  window.SpeechSynthesisUtterance = function (text) { this.text = text; };
  Object.defineProperty(window, 'speechSynthesis', {configurable: true, value: {
    getVoices: () => voices, speak: (u) => window.__spoken.push([u.text, u.lang]),
    cancel: () => {}, addEventListener: () => {}}});
})();"""


def test_read_aloud_with_a_vietnamese_voice(live_app_factory, page):
    page.context.add_init_script(SPEECH_STUB % '[{"lang": "vi-VN", "name": "Linh"}]')
    start_kiosk(live_app_factory, page)
    page.get_by_role("link", name="Bắt đầu đánh giá").click()
    speakers = page.locator("#k-step-1 button.k-speak")
    assert speakers.count() == 4
    speakers.first.click()
    spoken = page.evaluate("window.__spoken")
    assert len(spoken) == 1 and spoken[0][1] == "vi-VN"
    text = spoken[0][0]
    assert text.startswith("I.1. Trụ sở") and "Rất hài lòng" in text
    assert "Rất không hài lòng" in text and "Không trả lời" in text
    assert_accessible(page, "read aloud")
    save_screenshot(page, "kiosk-read-aloud")
    # the speaker does not choose an answer
    assert page.locator("input[type=radio]:checked").count() == 0


@pytest.mark.parametrize("voices", ["[]", '[{"lang": "en-US", "name": "Sam"}]'])
def test_no_speaker_without_a_voice_or_audio(live_app_factory, page, voices):
    page.context.add_init_script(SPEECH_STUB % voices)
    start_kiosk(live_app_factory, page)
    page.get_by_role("link", name="Bắt đầu đánh giá").click()
    assert page.locator("button.k-speak").count() == 0


def test_recorded_audio_from_the_instrument_folder(live_app_factory, page, tmp_path):
    folder = tmp_path / "instruments" / "hanoi-2022.audio" / "vi"
    folder.mkdir(parents=True)
    (folder / "I.2.mp3").write_bytes(b"ID3fake")
    page.context.add_init_script(SPEECH_STUB % "[]")
    start_kiosk(live_app_factory, page, INSTRUMENT_DIRS=[str(tmp_path / "instruments")])
    page.get_by_role("link", name="Bắt đầu đánh giá").click()
    speakers = page.locator("#k-step-1 button.k-speak")
    assert speakers.count() == 1  # only I.2 has a recording, and there is no voice
    assert page.locator("#q-c_I_2 button.k-speak").count() == 1
    with page.expect_request("**/kiosk/audio/hanoi-2022/vi/I.2.mp3"):
        speakers.first.click()


def test_text_size_and_language_switch(live_app_factory, page):
    start_kiosk(live_app_factory, page)
    size = lambda: page.evaluate(  # noqa: E731
        "parseFloat(getComputedStyle(document.querySelector('#k-start .k-lead')).fontSize)")
    normal = size()
    page.get_by_role("button", name="Chữ lớn hơn").click()
    assert size() > normal
    assert page.get_by_role("button", name="Chữ lớn hơn").get_attribute("aria-pressed") == "true"
    page.get_by_role("button", name="Chữ thường").click()
    assert size() == normal
    page.get_by_role("link", name="English").click()
    page.wait_for_selector("html[lang=en].js")
    assert "Start" in page.locator("#k-begin").inner_text()
    assert_accessible(page, "start en")
    save_screenshot(page, "kiosk-start-en")


def test_start_screen_is_at_most_20_kb_compressed_on_a_cold_load(live_app_factory, page):
    """What nginx sends (gzip, level 6): every request of the start screen's cold load;
    the service worker's own precache requests are not the page's."""
    import gzip

    sizes: list[tuple[str, int]] = []

    def finished(request):
        response = request.response()
        if response is not None and not request.service_worker:
            sizes.append((request.url, len(gzip.compress(response.body(), 6))))

    page.on("requestfinished", finished)
    start_kiosk(live_app_factory, page)
    page.wait_for_load_state("networkidle")
    assert sizes
    assert sum(n for _u, n in sizes) <= 20 * 1024, sizes


def test_citizen_screens_have_no_moderate_or_worse_violations(live_app_factory, page):
    """axe-core: 0 serious (and 0 moderate) on the start screen, a dimension and the
    suggestions screen."""
    from tests.browser.conftest import axe_violations

    worse = ("moderate", "serious", "critical")
    start_kiosk(live_app_factory, page)
    assert axe_violations(page, worse) == []
    page.get_by_role("link", name="Bắt đầu đánh giá").click()
    result = page.evaluate("""async () => (await axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations
        .filter(v => ['moderate', 'serious', 'critical'].includes(v.impact)).map(v => v.id)""")
    assert result == []
    for step in range(1, 6):
        answer_screen(page, step, "4")
        page.get_by_role("button", name="Tiếp tục").click()
    expect_visible(page, "#k-step-6")
    result = page.evaluate("""async () => (await axe.run(document, {runOnly: {type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations
        .filter(v => ['moderate', 'serious', 'critical'].includes(v.impact)).map(v => v.id)""")
    assert result == []
