/* SIPAS kiosk offline shell: the service worker of /kiosk/ (served by kiosk.views.service_worker).
 *
 * - The kiosk page (which holds the whole questionnaire, its instrument included) is fetched
 *   from the network first and kept; when the network or the server does not answer within
 *   a few seconds, the kept copy is shown, so a tablet that reloads or restarts during a LAN
 *   outage still shows the questionnaire (its answers wait in the page's IndexedDB queue).
 *   A refusal (403: not activated or revoked) is shown as is and the kept copy forgotten.
 *   A paused tablet's page (kiosk/paused.html) is a 200 like the questionnaire, so it is
 *   kept the same way: a paused tablet that goes offline keeps showing its paused screen
 *   (its script, paused.js, is one of the assets below: it asks the server again every
 *   heartbeat period), and the questionnaire replaces it once resumed.
 * - Styles, script and faces are served from the cache and refreshed in the background.
 * - Nothing else is touched: the API (POST) and every other page go to the network as usual.
 * A new version of any of these files gives a new cache name; old caches are deleted.
 */
"use strict";
var CACHE = {{ cache|tojson }};
var SHELL = {{ shell|tojson }};
var ASSETS = {{ assets|tojson }};
var NETWORK_MS = 4000;

self.addEventListener("install", function (ev) {
  ev.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(ASSETS.concat([SHELL]));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (ev) {
  ev.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) {
      return n.indexOf("sipas-kiosk-") === 0 && n !== CACHE;
    }).map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

function withTimeout(promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (v) { clearTimeout(timer); resolve(v); },
                 function (e) { clearTimeout(timer); reject(e); });
  });
}

function shell(request) {
  return withTimeout(fetch(request), NETWORK_MS).then(function (resp) {
    if (resp.status === 200 && !new URL(request.url).search) {  // ?lang=en is not the shell
      var copy = resp.clone();
      caches.open(CACHE).then(function (cache) { return cache.put(SHELL, copy); });
    } else if (resp.status === 403) {
      caches.open(CACHE).then(function (cache) { return cache.delete(SHELL); });
    }
    return resp;
  }, function () {
    return caches.match(SHELL).then(function (kept) { return kept || Response.error(); });
  });
}

function asset(request, path) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(path).then(function (kept) {
      var fresh = fetch(request).then(function (resp) {
        if (resp.status === 200) { cache.put(path, resp.clone()); }
        return resp;
      });
      if (kept) { fresh.then(null, function () {}); return kept; }
      return fresh;
    });
  });
}

self.addEventListener("fetch", function (ev) {
  var request = ev.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && url.pathname === SHELL) {
    ev.respondWith(shell(request));
  } else if (ASSETS.indexOf(url.pathname) >= 0) {
    ev.respondWith(asset(request, url.pathname));
  }
});
