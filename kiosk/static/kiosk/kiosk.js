/* SIPAS kiosk: turns the server-rendered questionnaire form into one screen per dimension,
 * sends answers through POST /api/v1/responses and keeps an offline queue in localStorage.
 *
 * - A submission is written to the queue BEFORE it is sent and removed only when the server
 *   has answered for good, so nothing is lost when the network or the server is down;
 *   re-sending is idempotent (the client-chosen UUID), so nothing is counted twice.
 * - Only a network error, a 5xx or a 429 is retried, after a delay that doubles up to a
 *   minute (a 429's Retry-After, capped the same way). A 2xx is stored. Any other 4xx is
 *   final: the submission is set aside (its id, status and error code kept on the tablet,
 *   not its answers) and counted in the heartbeat's "rejected"; an all-"no answer" run
 *   (400 "empty") is dropped silently.
 * - Idle for data-idle-seconds on any screen but the start: everything is cleared.
 * - The page never needs its CSRF token or session: the API is authenticated by the device
 *   credential, so a page left open for days keeps working.
 * - A request to be contacted (the consent box and the contact) is checked before the run is
 *   queued, with the server's rule (contactOk mirrors core/personal_data.normalize_contact;
 *   tests/browser/test_kiosk.py compares them): a run the server would refuse for its
 *   contact would be set aside with its answers. Reset clears the box and the contact too.
 * Vanilla JS, no dependencies; every text shown comes from the HTML (translated there).
 */
(function () {
  "use strict";

  var root = document.getElementById("kiosk");
  var form = document.getElementById("k-form");
  if (!root || !form || !window.JSON || !window.localStorage) { return; }

  var QUEUE_KEY = "sipas.kiosk.queue.v1";
  var REJECTED_KEY = "sipas.kiosk.rejected.v1";         // the last 50 set aside
  var REJECTED_COUNT_KEY = "sipas.kiosk.rejected.n.v1";  // how many were set aside, in total
  var MAX_DELAY_MS = 60000;
  var cfg = root.dataset;
  var idleMs = Number(cfg.idleSeconds) * 1000;
  var thanksMs = Number(cfg.thanksSeconds) * 1000;
  var retryMs = Math.max(1, Number(cfg.retrySeconds)) * 1000;
  var heartbeatMs = Math.max(5, Number(cfg.heartbeatSeconds)) * 1000;

  var criteria = cfg.criteria.split(" ").map(function (pair) {
    var i = pair.indexOf("=");
    return { code: pair.slice(0, i), name: pair.slice(i + 1) };
  });
  var areas = cfg.expectations ? cfg.expectations.split(" ") : [];

  var start = document.getElementById("k-start");
  var steps = Array.prototype.slice.call(form.querySelectorAll(".k-step"));
  var thanks = document.getElementById("k-thanks");
  var privacy = document.getElementById("k-privacy");
  var THANKS = -1, PRIVACY = -2;  // screens that are not part of a run
  var screens = [start].concat(steps);
  var msg = document.getElementById("k-msg");
  var pendingBox = document.getElementById("k-pending");
  var pendingN = document.getElementById("k-pending-n");
  var notice = document.getElementById("k-notice");
  if (notice) { notice.parentNode.removeChild(notice); }

  var current = 0;         // index in screens; THANKS or PRIVACY
  var lastActivity = Date.now();
  var thanksTimer = null;
  var followupNow = null;  // {code, hash} of the run being sent, until the thank-you shows it
  var revoked = false;

  document.documentElement.classList.add("js");

  // --- screens ---------------------------------------------------------------------------
  function show(index) {
    var target = index === THANKS ? thanks : (index === PRIVACY ? privacy : screens[index]);
    screens.concat([thanks, privacy]).forEach(function (s) {
      if (s) { s.classList.toggle("k-active", s === target); }
    });
    current = index;
    root.dataset.screen = index === THANKS ? "thanks" :
      (index === PRIVACY ? "privacy" : (index === 0 ? "start" : "step"));
    root.dataset.last = index === screens.length - 1 ? "1" : "0";
    setMessage("");
    window.scrollTo(0, 0);
    var heading = target.querySelector("h1, h2");
    if (heading && index !== 0) { heading.focus({ preventScroll: true }); }
  }

  function setMessage(text) { msg.textContent = text; }

  function clearAnswers() {
    Array.prototype.forEach.call(form.querySelectorAll("input[type=radio]"), function (r) {
      r.checked = false;
    });
    Array.prototype.forEach.call(form.querySelectorAll("input[type=checkbox]"), function (c) {
      c.checked = false;
    });
    Array.prototype.forEach.call(form.querySelectorAll("textarea, input[type=text]"), function (t) {
      t.value = "";
    });
    Array.prototype.forEach.call(form.querySelectorAll(".k-missing"), function (f) {
      f.classList.remove("k-missing");
    });
  }

  function reset() {
    if (thanksTimer) { clearTimeout(thanksTimer); thanksTimer = null; }
    if (window.sipasFollowup) { window.sipasFollowup.show(null); }  // the code is forgotten
    clearAnswers();
    show(0);
    if (revoked) { reloadIfReachable(); }
  }

  // The server said this kiosk is revoked: show its explanation page, but only reload when
  // the server answers (a reload while offline would leave a browser error page).
  function reloadIfReachable() {
    fetch(window.location.href, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) { if (r.status === 200 || r.status === 403) { window.location.reload(); } },
            function () {});
  }

  function checkedValue(name) {
    var el = form.querySelector("input[name='" + name + "']:checked");
    return el ? el.value : null;
  }

  // Questions that need a choice ("No answer" included) are marked by the server
  // (data-required, from the same rule the server applies to a posted form).
  function missingOnScreen(screen) {
    return Array.prototype.filter.call(screen.querySelectorAll("fieldset[data-required]"), function (fs) {
      return !fs.querySelector("input[type=radio]:checked");
    });
  }

  function next() {
    var missing = missingOnScreen(screens[current]);
    screens[current].querySelectorAll(".k-missing").forEach(function (f) {
      f.classList.remove("k-missing");
    });
    if (missing.length) {
      missing.forEach(function (f) { f.classList.add("k-missing"); });
      setMessage(msg.dataset.missing);
      missing[0].scrollIntoView({ block: "center" });
      missing[0].querySelector("input").focus({ preventScroll: true });
      return;
    }
    show(current + 1);
  }

  function back() {
    if (current <= 1) { reset(); } else { show(current - 1); }
  }

  form.addEventListener("change", function (ev) {
    var fs = ev.target.closest && ev.target.closest("fieldset.k-missing");
    if (fs) { fs.classList.remove("k-missing"); }
    if (!msg.textContent) { return; }
    if (!missingOnScreen(screens[current]).length) { setMessage(""); }
  });

  document.getElementById("k-begin").addEventListener("click", function (ev) {
    ev.preventDefault();
    clearAnswers();
    show(1);
  });
  document.getElementById("k-next").addEventListener("click", next);
  document.getElementById("k-back").addEventListener("click", back);
  document.getElementById("k-done").addEventListener("click", reset);

  // The privacy notice is a screen of this page (no navigation: it opens offline too), left
  // by "Back to the start" or, like every screen but the start, by the idle reset.
  var privacyLink = document.getElementById("k-privacy-link");
  if (privacy && privacyLink) {
    privacyLink.addEventListener("click", function (ev) {
      ev.preventDefault();
      show(PRIVACY);
    });
    Array.prototype.forEach.call(privacy.querySelectorAll(".k-privacy-back"), function (a) {
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        reset();
      });
    });
  }

  // --- submit ----------------------------------------------------------------------------
  function uuid4() {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);  // works on plain-http LANs, unlike randomUUID()
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); });
    return h.slice(0, 4).join("") + "-" + h.slice(4, 6).join("") + "-" + h.slice(6, 8).join("") +
      "-" + h.slice(8, 10).join("") + "-" + h.slice(10).join("");
  }

  // The answers as the API takes them; the server alone judges them (one set of rules).
  function collect() {
    var answers = {};
    criteria.forEach(function (c) {
      var v = checkedValue(c.name);
      answers[c.code] = v && v !== "0" ? Number(v) : null;
    });
    var expectations = {};
    areas.forEach(function (a) {
      var v = checkedValue("e_" + a);
      if (v) { expectations[a] = Number(v); }
    });
    var comment = (form.querySelector("textarea[name=comment]") || {}).value || "";
    var contact = contactInput ? contactInput.value.trim() : "";
    // a follow-up code for a comment (followup.js): only its hash is sent
    followupNow = window.sipasFollowup ? window.sipasFollowup.prepare(comment, contact) : null;
    return {
      id: uuid4(),
      instrument: cfg.instrument,
      answers: answers,
      comment: comment.trim() || null,
      consent: consentBox ? consentBox.checked : false,
      contact: contact || null,
      expectations: Object.keys(expectations).length ? expectations : null,
      followup_hash: followupNow ? followupNow.hash : null,
      submitted_at: new Date().toISOString()
    };
  }

  // --- the request to be contacted ----------------------------------------------------------
  var consentBox = form.querySelector("input[name=consent]");
  var contactInput = form.querySelector("input[name=contact]");

  // The server's rule (core/personal_data.normalize_contact): an e-mail address, or a phone
  // number of 0 and 9 or 10 digits (+84, 0084 or 84 in front instead of the 0).
  function contactOk(text) {
    text = String(text).trim().normalize("NFC");
    if (!text || text.length > 254) { return false; }
    if (text.indexOf("@") >= 0) { return /^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$/.test(text); }
    var digits = text.replace(/[\s.\-()]/g, "");
    var prefixes = ["+84", "0084", "84"];
    for (var i = 0; i < prefixes.length; i++) {
      var rest = digits.length - prefixes[i].length;
      if (digits.indexOf(prefixes[i]) === 0 && rest >= 9 && rest <= 11) {
        digits = "0" + digits.slice(prefixes[i].length).replace(/^0/, "");
        break;
      }
    }
    return /^0[0-9]{9,10}$/.test(digits);
  }
  root.sipasContactOk = contactOk;  // for the tests that compare it with the server's rule

  // The message for a request to be contacted that the server would refuse, or "".
  function contactProblem() {
    if (!consentBox || !contactInput) { return ""; }
    var contact = contactInput.value.trim();
    if (consentBox.checked && !contact) { return msg.dataset.contactMissing; }
    if (contact && !contactOk(contact)) { return msg.dataset.contactInvalid; }
    if (contact && !consentBox.checked) { return msg.dataset.consentMissing; }
    return "";
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var problem = contactProblem();
    if (problem) {
      setMessage(problem);
      (problem === msg.dataset.consentMissing ? consentBox : contactInput).focus();
      return;
    }
    enqueue(collect());
    clearAnswers();
    show(-1);
    var withCode = window.sipasFollowup && window.sipasFollowup.show(followupNow && followupNow.code);
    followupNow = null;
    thanksTimer = setTimeout(reset, withCode ? Number(cfg.followupSeconds) * 1000 : thanksMs);
    flushSoon();
  });

  // --- idle reset ------------------------------------------------------------------------
  // A warning first (WCAG 2.2.1: at least 20 s, or half the idle time when it is shorter,
  // to carry on with a single touch), then everything the citizen entered is cleared.
  var idleBox = document.getElementById("k-idle");
  ["pointerdown", "keydown", "input", "touchstart", "wheel"].forEach(function (type) {
    document.addEventListener(type, function () {
      lastActivity = Date.now();
      idleBox.hidden = true;
    }, { passive: true, capture: true });
  });
  setInterval(function () {
    var idle = Date.now() - lastActivity;
    if (current === 0 || current === THANKS) { idleBox.hidden = true; return; }
    if (idle >= idleMs) { idleBox.hidden = true; reset(); return; }
    var warnAt = idleMs - Math.min(20000, idleMs / 2);
    if (idle >= warnAt && idleBox.hidden) { idleBox.hidden = false; }
  }, 250);

  // --- offline queue ---------------------------------------------------------------------
  function load(key) {
    try { return JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { return []; }
  }
  function save(key, items) { localStorage.setItem(key, JSON.stringify(items)); }

  function enqueue(payload) {
    var q = load(QUEUE_KEY);
    q.push({ payload: payload, credential: cfg.credential, tries: 0, notBefore: 0 });
    save(QUEUE_KEY, q);
    updatePending();
  }

  function updatePending() {
    var n = load(QUEUE_KEY).length;
    pendingN.textContent = String(n);
    pendingBox.hidden = n === 0;
  }

  function drop(id) {
    var q = load(QUEUE_KEY).filter(function (item) { return item.payload.id !== id; });
    save(QUEUE_KEY, q);
    updatePending();
  }

  function rejectedCount() {
    var n = Math.max(Number(localStorage.getItem(REJECTED_COUNT_KEY)) || 0,
                     load(REJECTED_KEY).length);
    return Math.min(100000, Math.floor(n));
  }

  // Refused for good: out of the queue, never re-sent; what staff need to look into it is
  // kept (not the answers) and the heartbeat reports the count at once.
  function setAside(id, status, code) {
    var n = rejectedCount() + 1;
    drop(id);
    var r = load(REJECTED_KEY);
    r.push({ id: id, status: status, error: code || null, at: new Date().toISOString() });
    save(REJECTED_KEY, r.slice(-50));
    localStorage.setItem(REJECTED_COUNT_KEY, String(n));
    heartbeat();
  }

  function delay(id, ms) {
    var q = load(QUEUE_KEY);
    q.forEach(function (item) {
      if (item.payload.id === id) { item.tries += 1; item.notBefore = Date.now() + ms; }
    });
    save(QUEUE_KEY, q);
  }

  function request(url, body, credential) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json",
                 "Authorization": "Bearer " + (credential || cfg.credential) },
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store"
    });
  }

  var flushing = false;
  var flushTimer = null;

  function flushSoon() {
    if (flushTimer) { clearTimeout(flushTimer); }
    flushTimer = setTimeout(flush, 50);
  }

  function flush() {
    flushTimer = null;
    if (flushing) { return; }
    var item = load(QUEUE_KEY).filter(function (i) { return i.notBefore <= Date.now(); })[0];
    if (!item) { return; }
    flushing = true;
    var id = item.payload.id;
    var backoff = Math.min(MAX_DELAY_MS, 1000 * Math.pow(2, item.tries));
    request(cfg.api, item.payload, item.credential).then(function (resp) {
      if (resp.ok) {
        flushing = false;
        drop(id);
        flushSoon();
        return;
      }
      if (resp.status < 400 || resp.status >= 500 || resp.status === 429) {
        // the server is busy, failing or asks to wait: try again later, never sooner than
        // it asks and never later than a minute
        var after = Number(resp.headers.get("Retry-After"));
        var wait = resp.status === 429 && after > 0 ? Math.min(MAX_DELAY_MS, 1000 * after) : backoff;
        flushing = false;
        delay(id, wait);
        setTimeout(flush, wait + 50);
        return;
      }
      if (resp.status === 401) { revoked = true; }  // the page shows why at the next reset
      // Any other 4xx can never succeed. Every answer "No answer" (error "empty"): nothing
      // to count, dropped silently (the citizen was thanked all the same).
      return resp.json().then(function (body) { return body && body.error; }, function () { return null; })
        .then(function (code) {
          flushing = false;
          if (code === "empty") { drop(id); } else { setAside(id, resp.status, code); }
          flushSoon();
        });
    }, function () {  // network down or server unreachable: try again later
      flushing = false;
      delay(id, Math.min(backoff, retryMs));
    }).then(null, function () { flushing = false; });  // e.g. storage full: try again later
  }

  setInterval(flush, retryMs);
  window.addEventListener("online", flushSoon);

  // --- heartbeat -------------------------------------------------------------------------
  function heartbeat() {
    var counts = { pending: load(QUEUE_KEY).length, rejected: rejectedCount() };
    request(cfg.heartbeat, counts).then(function (resp) {
      if (resp.status === 401) {
        revoked = true;
        if (current === 0) { reloadIfReachable(); }
        return null;
      }
      return resp.ok ? resp.json() : null;
    }).then(function (data) {
      if (data && data.idle_seconds) { idleMs = data.idle_seconds * 1000; }
      if (data && data.thanks_seconds) { thanksMs = data.thanks_seconds * 1000; }
    }, function () { /* offline: the next beat will tell */ });
  }
  setInterval(heartbeat, heartbeatMs);

  show(0);
  updatePending();
  flushSoon();
  heartbeat();
})();
