"""A citizen's full kiosk run, scripted in Chromium (Playwright): taps, swipes, words read and
the time it takes at a realistic reading speed; and the start screen's weight on a cold load.

    .venv/bin/python bench/kiosk_citizen_run.py [--root PATH] [--wpm 150] [--tap 1.5]
                                                [--swipe 1.0] [--viewport 1280x800]

``--root`` runs the kiosk of another checkout (e.g. ``/work/main``, to compare with before).

The run: the start screen (its title and lead read), "Start", then every dimension (its title
and every question read; the level labels read on the first screen only), one answer per
question, "Continue", the suggestions screen (its heading read; the optional questions
skipped) and "Send". A question hidden under the navigation bar or below the screen costs a
swipe (or a tap on a "more below" cue) before it is answered. Time = words / wpm + taps x tap +
swipes x swipe: a model (the default 150 words per minute is a slow, careful reader; 1.5 s per
tap includes finding the button), not a wall-clock measure, so it does not depend on the
machine's load.

Weight: every request of the start page's cold load (new browser context, empty cache) with
its body size and its gzip size (level 6, what nginx sends); requests made by a service worker
(its precache) are not the page's and are not counted.
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
import tempfile
import threading
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
TREE = """code,name,parent_code,level
HN,Thành phố Hà Nội,,city
BD,UBND quận Ba Đình,HN,district
BD-KM,UBND phường Kim Mã,BD,commune
"""
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def serve(root: Path, db_path: Path):
    sys.path.insert(0, str(root))
    from werkzeug.serving import make_server

    from core import create_app
    from core.extensions import db
    from core.services import kiosks
    from core.services.offices import get_office, import_offices

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
                      "SECRET_KEY": "bench-secret", "KIOSK_MIN_SECONDS_BETWEEN": 0})
    with app.app_context():
        db.create_all()
        import_offices(io.StringIO(TREE))
        new = kiosks.add_kiosk(get_office("BD-KM"), "Quầy 1", idle_seconds=600,
                               with_credential=True)
        credential = new.credential
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}", credential


WORDS = "(el) => (el.innerText || '').split(/\\s+/).filter(Boolean).length"


class Citizen:
    def __init__(self, page) -> None:
        self.page, self.taps, self.swipes, self.words = page, 0, 0, 0

    def read(self, selector: str) -> None:
        for el in self.page.locator(selector).all():
            if el.is_visible():
                self.words += el.evaluate(WORDS)

    def tap(self, locator) -> None:
        page = self.page
        box = locator.bounding_box()
        bottom = page.evaluate("""() => { const n = document.getElementById('k-nav');
            const r = n && n.offsetParent !== null ? n.getBoundingClientRect() : null;
            return r && r.height ? r.top : window.innerHeight; }""")
        if box is None or box["y"] < 0 or box["y"] + box["height"] > bottom:
            self.swipes += 1
            locator.evaluate("el => el.scrollIntoView({block: 'center'})")
        locator.click()
        self.taps += 1


def run(root: Path, wpm: float, tap: float, swipe: float, viewport: tuple[int, int]) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        server, url, credential = serve(root, Path(tmp) / "bench.sqlite3")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                          locale="vi-VN")
            context.add_cookies([{"name": "sipas_kiosk", "value": credential,
                                  "domain": "127.0.0.1", "path": "/kiosk"}])
            page = context.new_page()
            loads: list[tuple[str, int, int]] = []

            def finished(request):
                response = request.response()
                if response is None or getattr(request, "service_worker", None):
                    return
                body = response.body()
                loads.append((request.url.replace(url, ""), len(body),
                              len(gzip.compress(body, 6))))

            page.on("requestfinished", finished)
            page.goto(url + "/kiosk/")
            page.wait_for_selector("html.js")
            page.wait_for_load_state("networkidle")
            page.remove_listener("requestfinished", finished)

            citizen = Citizen(page)
            citizen.read("#k-start .k-title")
            citizen.read("#k-start .k-lead")
            citizen.tap(page.get_by_role("link", name="Bắt đầu đánh giá"))
            steps = page.locator("section.k-step").count()
            for step in range(1, steps):
                page.wait_for_selector(f"#k-step-{step}", state="visible")
                citizen.read(f"#k-step-{step} .k-dim-title")
                citizen.read(f"#k-step-{step} fieldset.question legend")
                if step == 1:  # the level labels, once
                    citizen.read("#k-step-1 fieldset.question >> nth=0 >> .k-levels")
                for fs in page.locator(f"#k-step-{step} fieldset.question").all():
                    citizen.tap(fs.locator("label.choice-4 span"))
                citizen.tap(page.get_by_role("button", name="Tiếp tục"))
            page.wait_for_selector(f"#k-step-{steps}", state="visible")
            citizen.read(f"#k-step-{steps} .k-dim-title")
            send = page.locator("button[type=submit]:visible", has_text="Gửi đánh giá").first
            citizen.tap(send)
            page.wait_for_selector("#k-thanks", state="visible")
            browser.close()
        server.shutdown()

    seconds = citizen.words / wpm * 60 + citizen.taps * tap + citizen.swipes * swipe
    raw = sum(n for _u, n, _g in loads)
    packed = sum(g for _u, _n, g in loads)
    print(f"kiosk full run ({root}, {viewport[0]}x{viewport[1]}):")
    print(f"  taps {citizen.taps}, swipes {citizen.swipes}, words read {citizen.words}")
    print(f"  time {seconds:.0f} s ({int(seconds // 60)} min {int(seconds % 60)} s) at {wpm:g} "
          f"words/min, {tap:g} s per tap, {swipe:g} s per swipe")
    print(f"start screen cold load: {len(loads)} requests, {raw:,} B, {packed:,} B gzip")
    for path, n, g in loads:
        print(f"  {path:<48} {n:>8,} B {g:>8,} B gzip")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--wpm", type=float, default=150.0)
    parser.add_argument("--tap", type=float, default=1.5)
    parser.add_argument("--swipe", type=float, default=1.0)
    parser.add_argument("--viewport", default="1280x800")
    args = parser.parse_args()
    w, h = (int(x) for x in args.viewport.split("x"))
    run(args.root.resolve(), args.wpm, args.tap, args.swipe, (w, h))


if __name__ == "__main__":
    main()
