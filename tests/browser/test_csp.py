"""Every page renders under the strict Content-Security-Policy in a real Chromium: no
script, style or frame is refused (a refusal shows up as a console error and as a
``securitypolicyviolation`` event), and the stylesheet really applies."""

PAGES = ["/", "/kiosk/", "/survey/", "/admin/", "/quyen-rieng-tu", "/no-such-page"]


def test_pages_have_no_csp_violation(live_app_factory, page):
    server = live_app_factory()
    console_errors = []
    page.on("console", lambda msg: console_errors.append(msg.text)
            if msg.type == "error" else None)
    page.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));")
    for path in PAGES:
        resp = page.goto(server.url + path)
        assert "script-src 'self'" in resp.headers["content-security-policy"]
        page.wait_for_load_state("load")
        assert page.evaluate("window.__cspViolations") == [], path
        # the app's stylesheet is allowed and applied (it moves the skip link off-screen)
        assert page.evaluate(
            "getComputedStyle(document.querySelector('.skip-link')).position") != "static"
    assert [m for m in console_errors if "Content Security Policy" in m] == []
