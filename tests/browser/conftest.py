"""Real-browser fixtures: the app served on a loopback port in a thread, Debian's Chromium
driven by Playwright, axe-core injected for accessibility checks, screenshots on failure.

Browser tests run on SQLite only (the server under test is the same code on both
databases; the database-specific behaviour is covered by the HTTP tests). Without
/usr/bin/chromium they are skipped locally and fail in CI (CI=true).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from core import create_app
from core.extensions import db

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
    if Path(CHROMIUM).exists() and AXE.exists():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"browser tests need {CHROMIUM} and {AXE} (see .ci/run)")
    skip = pytest.mark.skip(reason="needs Debian's chromium and `npm install` in tests/browser")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


class LiveServer:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live_app_factory(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start the app on a fresh SQLite database; returns a LiveServer with ``.url``/``.app``."""
    servers: list[LiveServer] = []

    def factory(setup: Callable[[Flask], Any] | None = None, **config: Any) -> LiveServer:
        base = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'live.sqlite3'}",
                "SECRET_KEY": "browser-test-secret"}
        base.update(config)
        app = create_app(base)
        with app.app_context():
            db.create_all()
            if setup:
                setup(app)
            db.session.remove()
        server = LiveServer(app).start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()
        with server.app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context and page (tablet-sized landscape by default); a screenshot is
    saved to test-artifacts/ when the test fails."""
    viewport = getattr(request, "param", None) or {"width": 1280, "height": 800}
    context = browser.new_context(viewport=viewport, locale="vi-VN")
    pg = context.new_page()
    yield pg
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        safe = request.node.nodeid.replace("/", "_").replace("::", "__")
        try:
            pg.screenshot(path=str(ARTIFACTS / f"FAILED-{safe}.png"), full_page=True)
        except Exception:  # noqa: BLE001 - a screenshot must never hide the real failure
            pass
    context.close()


def axe_violations(pg: Any, impacts: tuple[str, ...] = ("serious", "critical")
                   ) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.1 A/AA rules) in ``pg``; return violations of the given impacts."""
    # the whole page a click may just have led to, not the part parsed so far
    pg.wait_for_load_state()
    # evaluated through the DevTools protocol: the page's Content-Security-Policy (no inline
    # scripts) would block an injected <script> tag
    pg.evaluate(AXE.read_text(encoding="utf-8") + "\n;void 0")
    result = pg.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag',
             values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})""")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"] if v["impact"] in impacts
    ]


def save_screenshot(pg: Any, name: str) -> Path:
    """Keep a screenshot as a CI artifact under test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    return path
