// Service worker of the desk kiosk (scope /kiosk/). The kiosk page (?shell=) and its assets are cached so
// the kiosk opens offline; the API is never cached. Background Sync sends the kept responses.
importScripts("/static/js/enumerator/sync.js", "/static/js/kiosk/queue.js");
var CACHE = "kiosk-v1";
var SHELL = new URL(self.location.href).searchParams.get("shell") || "";
var ASSETS = ["/static/css/app.css", "/static/kiosk/kiosk.css", "/static/js/enumerator/sync.js",
  "/static/js/kiosk/queue.js", "/static/js/kiosk/app.js", "/static/enumerator/icon.svg"];

function isShell(path) { return /^\/kiosk\/[A-Za-z0-9_-]+\/$/.test(path) && path.indexOf("/kiosk/ghep/") !== 0; }

function keep(path, res) {
  // Only a real page: never a redirect or an error page.
  if (res && res.ok && res.type === "basic" && !res.redirected) {
    var copy = res.clone();
    caches.open(CACHE).then(function (c) { c.put(path, copy); });
  }
  return res;
}

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (c) {
    return c.addAll(ASSETS).then(function () {
      if (!isShell(SHELL)) return null;
      return Promise.all([SHELL, SHELL + "manifest.webmanifest"].map(function (p) {
        return fetch(p, { redirect: "manual" }).then(function (res) { return keep(p, res); }).catch(function () {});
      }));
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
  if (req.mode === "navigate" && isShell(url.pathname)) {
    // Network first (a new questionnaire version), the cached page when offline.
    event.respondWith(fetch(req).then(function (res) { return keep(url.pathname, res); }).catch(function () {
      return caches.match(url.pathname).then(function (hit) {
        return hit || new Response("Chưa có bản lưu của trang khảo sát trên máy. Vui lòng mở khi có mạng.",
          { status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" } });
      });
    }));
    return;
  }
  if (ASSETS.indexOf(url.pathname) >= 0 || /^\/kiosk\/[A-Za-z0-9_-]+\/manifest\.webmanifest$/.test(url.pathname)) {
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
  if (event.tag !== "sync-kiosk") return;
  event.waitUntil(Kiosk.sync().then(function () {
    return self.clients.matchAll().then(function (cs) { cs.forEach(function (c) { c.postMessage("synced"); }); });
  }));
});
