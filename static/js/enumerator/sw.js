// Service worker of the enumerator app (scope /enumerator/). The app shell, with the assignments and
// questionnaires rendered into it, is cached so the app opens offline; the API is never cached.
importScripts("/static/js/enumerator/sync.js");
var CACHE = "dieutra-v1";
var SHELL = "/enumerator/";
var ASSETS = ["/static/css/app.css", "/static/enumerator/enumerator.css", "/static/js/enumerator/sync.js",
  "/static/js/enumerator/app.js", "/static/enumerator/manifest.webmanifest", "/static/enumerator/icon.svg"];

function keepShell(res) {
  // Only a real page: never a redirect to the login form or an error page.
  if (res && res.ok && res.type === "basic" && !res.redirected) {
    var copy = res.clone();
    caches.open(CACHE).then(function (c) { c.put(SHELL, copy); });
  }
  return res;
}

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (c) {
    return c.addAll(ASSETS).then(function () {
      return fetch(SHELL, { credentials: "same-origin", redirect: "manual" }).then(keepShell).catch(function () {});
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var req = event.request, url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin || url.pathname.indexOf("/api/") === 0) return;
  if (req.mode === "navigate" && url.pathname === SHELL) {
    // Network first (fresh assignments), the cached shell when offline.
    event.respondWith(fetch(req).then(keepShell).catch(function () {
      return caches.match(SHELL).then(function (hit) {
        return hit || new Response("Chưa có bản lưu của ứng dụng trên máy. Vui lòng mở khi có mạng.",
          { status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" } });
      });
    }));
    return;
  }
  if (ASSETS.indexOf(url.pathname) >= 0) {
    // Cached copy at once, refreshed in the background.
    event.respondWith(caches.open(CACHE).then(function (c) {
      return c.match(url.pathname).then(function (hit) {
        var fresh = fetch(req).then(function (res) { if (res.ok) c.put(url.pathname, res.clone()); return res; });
        return hit ? (fresh.catch(function () {}), hit) : fresh;
      });
    }));
  }
});

self.addEventListener("sync", function (event) {
  if (event.tag !== "sync-interviews") return;
  event.waitUntil(DieuTra.sync("/api/v1/interviews").then(function () {
    return self.clients.matchAll().then(function (cs) { cs.forEach(function (c) { c.postMessage("synced"); }); });
  }));
});
