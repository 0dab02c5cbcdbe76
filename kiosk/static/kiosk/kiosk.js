/* SIPAS kiosk: turns the server-rendered questionnaire form into one screen per dimension,
 * sends answers through POST /api/v1/responses and keeps an offline queue in IndexedDB; a
 * service worker (/kiosk/sw.js, on HTTPS or localhost) keeps the page itself available
 * offline, so a tablet that reloads during a LAN outage still shows the questionnaire.
 *
 * - A submission is written to the queue BEFORE it is sent and removed only when the server
 *   has answered for good, so nothing is lost when the network or the server is down;
 *   re-sending is idempotent (the client-chosen UUID), so nothing is counted twice.
 * - Only a network error, a 5xx or a 429 is retried, after a delay that doubles up to a
 *   minute (a 429's Retry-After, capped the same way). A 2xx is stored. Any other 4xx is
 *   final: the submission is set aside (its id, status and error code kept on the tablet,
 *   not its answers) and counted in the heartbeat's "rejected"; an all-"no answer" run
 *   (400 "empty") is dropped silently.
 * - Idle for data-idle-seconds on any screen but the start: a warning modal first (a countdown
 *   and "I am still answering"; the tap that dismisses it never reaches the answer under it),
 *   then everything is cleared. When the citizen had finished at least one dimension (moved
 *   past it, and not with "No answer" only), the criterion answers of the finished dimensions
 *   are queued first, once, as a response flagged "partial": never a comment, an
 *   expectation, a demographic answer or a contact.
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
  if (!root || !form || !window.JSON || !window.localStorage || !window.Promise) { return; }

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
  var furthest = 0;        // the furthest screen of this run (finished dimensions are before it)
  var lastActivity = Date.now();
  var thanksTimer = null;
  var followupNow = null;  // {code, hash} of the run being sent, until the thank-you shows it
  var revoked = false;
  var paused = false;      // the server paused this kiosk: its paused screen once nobody is here

  document.documentElement.classList.add("js");

  // --- screens ---------------------------------------------------------------------------
  // followup.js (the follow-up code for a comment) is loaded once a run begins, not with the
  // start screen (whose cold load stays within its budget); the offline shell keeps it too
  function loadFollowup() {
    if (window.sipasFollowup || !cfg.followupJs || document.getElementById("k-followup-js")) {
      return;
    }
    var tag = document.createElement("script");
    tag.id = "k-followup-js";
    tag.src = cfg.followupJs;
    document.head.appendChild(tag);
  }

  function show(index) {
    var target = index === THANKS ? thanks : (index === PRIVACY ? privacy : screens[index]);
    screens.concat([thanks, privacy]).forEach(function (s) {
      if (s) { s.classList.toggle("k-active", s === target); }
    });
    if (index > 0) { loadFollowup(); }
    current = index;
    if (index > furthest) { furthest = index; }
    stopReading();
    root.dataset.screen = index === THANKS ? "thanks" :
      (index === PRIVACY ? "privacy" : (index === 0 ? "start" : "step"));
    root.dataset.last = index === screens.length - 1 ? "1" : "0";
    setMessage("");
    window.scrollTo(0, 0);
    var heading = target.querySelector("h1, h2");
    if (heading && index !== 0) { heading.focus({ preventScroll: true }); }
    updateMore();
  }

  // "More questions below": on a screen of questions that goes on under the navigation bar
  var more = document.getElementById("k-more");
  var nav = document.getElementById("k-nav");
  function updateMore() {
    if (!more) { return; }
    var onStep = current > 0 && root.dataset.screen === "step";
    var navTop = nav ? nav.getBoundingClientRect().top : window.innerHeight;
    var below = false;
    if (onStep) {
      var last = screens[current].querySelectorAll("fieldset, .k-send");
      var end = last.length ? last[last.length - 1].getBoundingClientRect().bottom : 0;
      below = end > navTop + 2;
    }
    more.hidden = !below;
  }
  if (more) {
    more.addEventListener("click", function () {
      window.scrollBy({ top: Math.round(window.innerHeight * 0.6), behavior: "smooth" });
    });
    window.addEventListener("scroll", updateMore, { passive: true });
    window.addEventListener("resize", updateMore);
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
    hideClears();
  }

  function reset() {
    if (thanksTimer) { clearTimeout(thanksTimer); thanksTimer = null; }
    if (window.sipasFollowup) { window.sipasFollowup.show(null); }  // the code is forgotten
    clearAnswers();
    furthest = 0;
    stopReading();
    setLarge(false);
    // the next citizen starts in Vietnamese (the kept page when offline)
    if (cfg.lang !== "vi" && cfg.swScope) { window.location.replace(cfg.swScope); return; }
    show(0);
    if (revoked) { reloadIfReachable(); } else if (paused) { reloadIfPaused(); }
  }

  // The server said this kiosk is revoked (or paused): show its explanation page, but only
  // reload when the server answers (a reload while offline would leave a browser error
  // page), and only if stillDue (when given) still says so once it has.
  function reloadIfReachable(stillDue) {
    fetch(window.location.href, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) {
        if ((r.status === 200 || r.status === 403) && (!stillDue || stillDue())) {
          window.location.reload();
        }
      }, function () {});
  }

  // The server said this kiosk is paused: reload to its paused screen only between two
  // citizens (on the start screen, never during a run) and once the offline queue is empty
  // (the paused page has no script to send what waits here; the server would still accept
  // it). Otherwise the next heartbeat or reset tries again.
  function reloadIfPaused() {
    if (!pausedAndFree()) { return; }
    queue.load().then(function (q) {
      if (q.length === 0 && pausedAndFree()) { reloadIfReachable(pausedAndFree); }
    }, function () {});
  }
  function pausedAndFree() { return paused && !revoked && current === 0; }

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

  // Optional questions (expectations) can be cleared: a "Clear this answer" button under
  // each, shown once something is chosen.
  Array.prototype.forEach.call(form.querySelectorAll(".k-extras fieldset.question"), function (fs) {
    if (fs.hasAttribute("data-required")) { return; }
    var clear = document.createElement("button");
    clear.type = "button";
    clear.className = "k-clear";
    clear.textContent = form.dataset.clear;
    clear.hidden = true;
    clear.addEventListener("click", function () {
      Array.prototype.forEach.call(fs.querySelectorAll("input[type=radio]"), function (r) {
        r.checked = false;
      });
      clear.hidden = true;
    });
    fs.appendChild(clear);
    fs.addEventListener("change", function () { clear.hidden = !fs.querySelector("input:checked"); });
  });
  function hideClears() {
    Array.prototype.forEach.call(form.querySelectorAll(".k-clear"), function (b) { b.hidden = true; });
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
    furthest = 0;
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

  // The walk-away answers: the criteria of the dimensions this citizen finished (every
  // question chosen, moved past, at least one rated), or null when there are none.
  function collectPartial() {
    var codeOf = {};
    criteria.forEach(function (c) { codeOf[c.name] = c.code; });
    var answers = {}, finished = 0;
    steps.forEach(function (step, i) {
      if (step.classList.contains("k-extras") || i + 1 >= furthest) { return; }
      var fieldsets = step.querySelectorAll("fieldset[data-required]");
      if (!fieldsets.length || missingOnScreen(step).length) { return; }
      var rated = false, mine = {};
      Array.prototype.forEach.call(fieldsets, function (fs) {
        var r = fs.querySelector("input[type=radio]:checked");
        if (!codeOf[r.name]) { return; }
        mine[codeOf[r.name]] = r.value !== "0" ? Number(r.value) : null;
        if (r.value !== "0") { rated = true; }
      });
      if (!rated) { return; }
      finished += 1;
      Object.keys(mine).forEach(function (k) { answers[k] = mine[k]; });
    });
    if (!finished) { return null; }
    return { id: uuid4(), instrument: cfg.instrument, answers: answers, partial: true,
             submitted_at: new Date().toISOString() };
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
    enqueue(collect()).then(flushSoon);
    clearAnswers();
    show(-1);
    var withCode = window.sipasFollowup && window.sipasFollowup.show(followupNow && followupNow.code);
    followupNow = null;
    thanksTimer = setTimeout(reset, withCode ? Number(cfg.followupSeconds) * 1000 : thanksMs);
  });

  // --- idle reset ------------------------------------------------------------------------
  // A warning first (WCAG 2.2.1: at least 20 s, or half the idle time when it is shorter,
  // to carry on with a single touch), then everything the citizen entered is cleared.
  // The warning is a modal over the whole page: the tap that dismisses it lands on the modal,
  // never on the answer underneath (the rest of the page is inert while it shows).
  var idleBox = document.getElementById("k-idle");
  var idleN = document.getElementById("k-idle-n");
  var idleStay = document.getElementById("k-idle-stay");
  var behind = [form, document.getElementById("k-nav"), privacy, more].filter(Boolean);

  function setIdle(open) {
    if (open === !idleBox.hidden) { return; }
    idleBox.hidden = !open;
    behind.forEach(function (el) { el.inert = open; });
    if (open) { idleStay.focus(); }
  }
  ["pointerdown", "keydown", "input", "touchstart", "wheel"].forEach(function (type) {
    document.addEventListener(type, function () {
      if (idleBox.hidden) { lastActivity = Date.now(); }
    }, { passive: true, capture: true });
  });
  // dismissed on the click that ends the tap (the modal stays until then, so the tap's
  // click event is the modal's own)
  idleBox.addEventListener("click", function (ev) {
    ev.preventDefault();
    ev.stopPropagation();
    lastActivity = Date.now();
    setIdle(false);
  });
  idleBox.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { lastActivity = Date.now(); setIdle(false); }
  });
  setInterval(function () {
    var idle = Date.now() - lastActivity;
    if (current === 0 || current === THANKS) { setIdle(false); return; }
    if (idle >= idleMs) {
      setIdle(false);
      var partial = current === PRIVACY ? null : collectPartial();
      if (partial) { enqueue(partial).then(flushSoon); }
      reset();
      return;
    }
    var warnAt = idleMs - Math.min(20000, idleMs / 2);
    if (idle >= warnAt) {
      idleN.textContent = String(Math.max(1, Math.ceil((idleMs - idle) / 1000)));
      setIdle(true);
    }
  }, 250);

  // --- offline queue ---------------------------------------------------------------------
  // The queue lives in IndexedDB (one record, changed in read-write transactions, so a change
  // is whole or not at all); a queue left in localStorage by an older version of this page is
  // moved there once. Without IndexedDB it stays in localStorage. The list of submissions set
  // aside (no answers in it) stays in localStorage.
  function load(key) {
    try { return JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { return []; }
  }
  function save(key, items) { localStorage.setItem(key, JSON.stringify(items)); }

  var localQueue = {
    load: function () { return Promise.resolve(load(QUEUE_KEY)); },
    update: function (change) {
      return new Promise(function (resolve) {
        var q = change(load(QUEUE_KEY));
        save(QUEUE_KEY, q);
        resolve(q);
      });
    }
  };

  function idbQueue() {
    var opened = new Promise(function (resolve, reject) {
      var req = window.indexedDB.open("sipas-kiosk", 1);
      req.onupgradeneeded = function () { req.result.createObjectStore("kv"); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
    function run(mode, change) {
      return opened.then(function (idb) {
        return new Promise(function (resolve, reject) {
          var tx = idb.transaction("kv", mode);
          var kv = tx.objectStore("kv");
          var result = [];
          var get = kv.get(QUEUE_KEY);
          get.onsuccess = function () {
            result = get.result || [];
            if (change) {
              result = change(result);
              kv.put(result, QUEUE_KEY);
            }
          };
          tx.oncomplete = function () { resolve(result); };
          tx.onerror = tx.onabort = function () { reject(tx.error); };
        });
      });
    }
    var store = {
      load: function () { return run("readonly"); },
      update: function (change) { return run("readwrite", change); }
    };
    // move a localStorage queue over, once (ids already there are not added twice)
    var moved = store.update(function (q) {
      var have = {};
      q.forEach(function (item) { have[item.payload.id] = true; });
      load(QUEUE_KEY).forEach(function (item) {
        if (!have[item.payload.id]) { q.push(item); }
      });
      return q;
    }).then(function () { localStorage.removeItem(QUEUE_KEY); });
    return moved.then(function () { return store; });
  }

  var queueReady = (window.indexedDB ? idbQueue() : Promise.reject(new Error("no IndexedDB")))
    .then(null, function () { return localQueue; });
  var queue = {
    load: function () { return queueReady.then(function (q) { return q.load(); }); },
    update: function (change) { return queueReady.then(function (q) { return q.update(change); }); }
  };
  root.sipasQueue = queue;  // for the tests

  function enqueue(payload) {
    // shown at once (the write below is asynchronous); the stored queue then says the truth
    pendingN.textContent = String((Number(pendingN.textContent) || 0) + 1);
    pendingBox.hidden = false;
    return queue.update(function (q) {
      q.push({ payload: payload, credential: cfg.credential, tries: 0, notBefore: 0 });
      return q;
    }).then(showPending);
  }

  function showPending(q) {
    pendingN.textContent = String(q.length);
    pendingBox.hidden = q.length === 0;
    return q;
  }

  function updatePending() { return queue.load().then(showPending, function () {}); }

  function drop(id) {
    return queue.update(function (q) {
      return q.filter(function (item) { return item.payload.id !== id; });
    }).then(showPending);
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
    var r = load(REJECTED_KEY);
    r.push({ id: id, status: status, error: code || null, at: new Date().toISOString() });
    save(REJECTED_KEY, r.slice(-50));
    localStorage.setItem(REJECTED_COUNT_KEY, String(n));
    return drop(id).then(heartbeat);
  }

  function delay(id, ms) {
    return queue.update(function (q) {
      q.forEach(function (item) {
        if (item.payload.id === id) { item.tries += 1; item.notBefore = Date.now() + ms; }
      });
      return q;
    });
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
    flushing = true;
    queue.load().then(function (q) {
      var item = q.filter(function (i) { return i.notBefore <= Date.now(); })[0];
      if (!item) { flushing = false; return; }
      send(item);
    }, function () { flushing = false; });
  }

  function send(item) {
    var id = item.payload.id;
    var backoff = Math.min(MAX_DELAY_MS, 1000 * Math.pow(2, item.tries));
    function done() { flushing = false; }
    request(cfg.api, item.payload, item.credential).then(function (resp) {
      if (resp.ok) {
        return drop(id).then(function () { done(); flushSoon(); });
      }
      if (resp.status < 400 || resp.status >= 500 || resp.status === 429) {
        // the server is busy, failing or asks to wait: try again later, never sooner than
        // it asks and never later than a minute
        var after = Number(resp.headers.get("Retry-After"));
        var wait = resp.status === 429 && after > 0 ? Math.min(MAX_DELAY_MS, 1000 * after) : backoff;
        return delay(id, wait).then(function () { done(); setTimeout(flush, wait + 50); });
      }
      if (resp.status === 401) { revoked = true; }  // the page shows why at the next reset
      // Any other 4xx can never succeed. Every answer "No answer" (error "empty"): nothing
      // to count, dropped silently (the citizen was thanked all the same).
      return resp.json().then(function (body) { return body && body.error; }, function () { return null; })
        .then(function (code) {
          return code === "empty" ? drop(id) : setAside(id, resp.status, code);
        }).then(function () { done(); flushSoon(); });
    }, function () {  // network down or server unreachable: try again later
      return delay(id, Math.min(backoff, retryMs)).then(done);
    }).then(null, done);  // e.g. storage full: try again later
  }

  setInterval(flush, retryMs);
  window.addEventListener("online", flushSoon);

  // --- heartbeat -------------------------------------------------------------------------
  function heartbeat() {
    return queue.load().then(function (q) { return q.length; }, function () { return null; })
      .then(beat);
  }
  function beat(pending) {
    var counts = { pending: pending, rejected: rejectedCount(),
                   offline_shell: offlineShell(), app_version: cfg.appVersion || null };
    return request(cfg.heartbeat, counts).then(function (resp) {
      if (resp.status === 401) {
        revoked = true;
        if (current === 0) { reloadIfReachable(); }
        return null;
      }
      return resp.ok ? resp.json() : null;
    }).then(function (data) {
      if (data && data.idle_seconds) { idleMs = data.idle_seconds * 1000; }
      if (data && data.thanks_seconds) { thanksMs = data.thanks_seconds * 1000; }
      if (data) { paused = data.paused === true; }  // resumed before the reload: carry on
      reloadIfPaused();  // at the start screen with an empty queue; else at the next reset
    }, function () { /* offline: the next beat will tell */ });
  }
  setInterval(heartbeat, heartbeatMs);

  // --- text size (A / A+), for this citizen ------------------------------------------------
  var sizeNormal = document.getElementById("k-size-normal");
  var sizeLarge = document.getElementById("k-size-large");
  function setLarge(on) {
    document.documentElement.classList.toggle("k-large", on);
    if (sizeNormal) {
      sizeNormal.setAttribute("aria-pressed", String(!on));
      sizeLarge.setAttribute("aria-pressed", String(on));
    }
    updateMore();
  }
  if (sizeNormal) {
    sizeNormal.addEventListener("click", function () { setLarge(false); });
    sizeLarge.addEventListener("click", function () { setLarge(true); });
  }

  // --- read aloud --------------------------------------------------------------------------
  // A speaker button on each question: the recorded file of the instrument folder when there
  // is one, else the tablet's speech synthesis when it has a voice for the page's language;
  // with neither, no button.
  var audio = {};
  (cfg.audio ? cfg.audio.split(" ") : []).forEach(function (pair) {
    var i = pair.indexOf("=");
    audio[pair.slice(0, i)] = pair.slice(i + 1);
  });
  var synth = window.speechSynthesis;
  var voice = null;
  var player = null;

  function stopReading() {
    if (player) { player.pause(); player = null; }
    if (synth && voice) { synth.cancel(); }
  }

  function playFiles(urls) {
    if (!urls.length) { return; }
    player = new Audio(urls[0]);
    player.addEventListener("ended", function () { playFiles(urls.slice(1)); });
    player.play().then(null, function () {});
  }

  function readAloud(fs, code) {
    stopReading();
    if (audio[code]) {
      playFiles(audio.levels ? [audio[code], audio.levels] : [audio[code]]);
      return;
    }
    var parts = [fs.querySelector("legend").textContent];
    Array.prototype.forEach.call(fs.querySelectorAll(".k-levels span"), function (s) {
      parts.push(s.textContent);
    });
    var say = new window.SpeechSynthesisUtterance(parts.join(". "));
    say.voice = voice;
    say.lang = voice.lang;
    say.rate = 0.9;
    synth.speak(say);
  }

  function addSpeakers() {
    var codeOf = {};
    criteria.forEach(function (c) { codeOf[c.name] = c.code; });
    Array.prototype.forEach.call(form.querySelectorAll(".k-step fieldset[data-required]"), function (fs) {
      var radio = fs.querySelector("input[type=radio]");
      var code = radio && codeOf[radio.name];
      if (!code || fs.querySelector(".k-speak") || !(audio[code] || voice)) { return; }
      var b = document.createElement("button");
      b.type = "button";
      b.className = "k-speak";
      b.setAttribute("aria-label", form.dataset.read + ": " + code);
      b.title = form.dataset.read;
      b.addEventListener("click", function () { readAloud(fs, code); });
      fs.classList.add("k-has-speak");
      var legend = fs.querySelector("legend");
      legend.parentNode.insertBefore(b, legend.nextSibling);
    });
    updateMore();
  }

  function pickVoice() {
    var lang = (cfg.lang || "vi").toLowerCase();
    voice = synth ? synth.getVoices().filter(function (v) {
      return String(v.lang).toLowerCase().replace("_", "-").split("-")[0] === lang;
    })[0] || null : null;
    addSpeakers();
  }
  if (synth && synth.addEventListener) { synth.addEventListener("voiceschanged", pickVoice); }
  pickVoice();

  // --- offline shell ---------------------------------------------------------------------
  // The service worker keeps this page, its styles, script and faces (the instrument is in the
  // page) for a reload during an outage. Browsers allow one only in a secure context (HTTPS,
  // or localhost): see docs/deploy.md. The heartbeat says whether it is active.
  function offlineShell() {
    return Boolean(navigator.serviceWorker && navigator.serviceWorker.controller);
  }
  if (cfg.sw && navigator.serviceWorker && window.isSecureContext) {
    navigator.serviceWorker.register(cfg.sw, { scope: cfg.swScope }).then(null, function () {});
  }

  show(0);
  updatePending();
  flushSoon();
  heartbeat();
})();
