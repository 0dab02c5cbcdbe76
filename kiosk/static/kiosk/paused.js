/* SIPAS kiosk: the paused screen (kiosk/paused.html, served by kiosk.views.index).
 *
 * Every data-recheck-seconds (the heartbeat period) it asks the server for the kiosk page and
 * reloads only when that is no longer the paused screen: the tablet was resumed (the
 * questionnaire comes back by itself) or revoked (its explanation page). Nothing is reloaded
 * while nothing changed (a timed refresh of an unchanged page disturbs screen readers), and
 * nothing happens while the server cannot be reached (the offline shell keeps this page and
 * this script). Without JavaScript the page's <noscript> refresh reloads it instead.
 */
(function () {
  "use strict";
  var screen = document.querySelector("[data-kiosk-paused]");
  if (!screen) { return; }
  var everyMs = Math.max(5, Number(screen.getAttribute("data-recheck-seconds")) || 60) * 1000;

  function stillPaused(resp) {
    if (resp.status === 403) { return false; }   // revoked: show why
    if (resp.status !== 200) { return true; }    // busy or failing: ask again later
    return resp.text().then(function (html) { return html.indexOf("data-kiosk-paused") >= 0; });
  }

  function check() {
    fetch(window.location.href, { cache: "no-store", credentials: "same-origin" })
      .then(stillPaused)
      .then(function (paused) { if (!paused) { window.location.reload(); } }, function () {});
  }
  setInterval(check, everyMs);
}());
