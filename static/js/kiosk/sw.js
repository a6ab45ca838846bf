// Service worker of the desk kiosk (scope /kiosk/). The kiosk page (?shell=) in Vietnamese and in every other
// language of its switch (?langs=), its manifest, its assets and the audio prompts it names are cached so the
// kiosk opens, and switches language, offline; the API is never cached. Background Sync sends the kept responses.
importScripts("/static/js/enumerator/sync.js", "/static/js/kiosk/queue.js");
var CACHE = "kiosk-v2";
var PARAMS = new URL(self.location.href).searchParams;
var SHELL = PARAMS.get("shell") || "";
var LANGS = (PARAMS.get("langs") || "").split(",").filter(function (l) {
  return l !== "vi" && /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/.test(l);
});
var ASSETS = ["/static/css/app.css", "/static/kiosk/kiosk.css", "/static/css/easy.css", "/static/js/enumerator/sync.js",
  "/static/js/kiosk/queue.js", "/static/js/kiosk/app.js", "/static/js/easy.js", "/static/enumerator/icon.svg"];
var AUDIO = /\/audio\/[a-f0-9]{24}/g;

function isShell(path) { return /^\/kiosk\/[A-Za-z0-9_-]+\/(de-dang\/)?$/.test(path) && path.indexOf("/kiosk/ghep/") !== 0; }
function isManifest(path) { return /^\/kiosk\/[A-Za-z0-9_-]+\/manifest\.webmanifest$/.test(path); }

// One cache entry per page and language (Vietnamese is the bare address) and per manifest variant.
function keyOf(url) {
  if (isManifest(url.pathname)) return url.pathname + (url.searchParams.get("ui") === "easy" ? "?ui=easy" : "");
  var lang = url.searchParams.get("lang");
  return url.pathname + (lang && lang !== "vi" ? "?lang=" + encodeURIComponent(lang) : "");
}
function variants(shell) {
  return [shell].concat(LANGS.map(function (l) { return shell + "?lang=" + encodeURIComponent(l); }));
}
function manifestOf(shell) {
  var easy = /\/de-dang\/$/.test(shell);
  return shell.replace(/de-dang\/$/, "") + "manifest.webmanifest" + (easy ? "?ui=easy" : "");
}

function keep(key, res) {
  // Only a real page: never a redirect or an error page. A page's audio prompts are kept with it.
  if (!(res && res.ok && res.type === "basic" && !res.redirected)) return Promise.resolve();
  var copy = res.clone();
  return caches.open(CACHE).then(function (c) {
    var page = copy.clone();
    return c.put(key, copy).then(function () {
      if (!isShell(new URL(key, self.location.href).pathname)) return null;
      return page.text().then(function (html) { return keepAudio(c, html.match(AUDIO) || []); });
    });
  }).catch(function () {});
}
function keepAudio(c, paths) {
  return Promise.all(paths.filter(function (p, i) { return paths.indexOf(p) === i; }).map(function (p) {
    return c.match(p).then(function (hit) {
      return hit || fetch(p).then(function (res) { return res.ok && res.status === 200 ? c.put(p, res) : null; });
    }).catch(function () {});
  }));
}
function fetchAndKeep(key) {
  return fetch(key, { redirect: "manual", credentials: "same-origin" }).then(function (res) { return keep(key, res); })
    .catch(function () {});
}

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (c) {
    return c.addAll(ASSETS).then(function () {
      if (!isShell(SHELL)) return null;
      return Promise.all(variants(SHELL).concat([manifestOf(SHELL)]).map(fetchAndKeep));
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
    // Network first (a new questionnaire version), the kept page when offline. Each page fetched from the
    // network also refreshes the other languages' copies, so they never lag behind a new version.
    var key = keyOf(url);
    event.respondWith(fetch(req).then(function (res) {
      event.waitUntil(keep(key, res).then(function () {
        return Promise.all(variants(url.pathname).filter(function (k) { return k !== key; }).map(fetchAndKeep));
      }));
      return res;
    }).catch(function () {
      return caches.match(key).then(function (hit) {
        return hit || new Response("Chưa có bản lưu của trang khảo sát trên máy. Vui lòng mở khi có mạng.",
          { status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" } });
      });
    }));
    return;
  }
  if (/^\/audio\/[a-f0-9]{24}$/.test(url.pathname)) {
    // Kept audio at once (the player asks for byte ranges: answer with the whole file, kept as fetched).
    event.respondWith(caches.open(CACHE).then(function (c) {
      return c.match(url.pathname).then(function (hit) {
        return hit || fetch(url.pathname).then(function (res) {
          if (res.ok && res.status === 200) c.put(url.pathname, res.clone());
          return res;
        });
      });
    }));
    return;
  }
  if (ASSETS.indexOf(url.pathname) >= 0 || isManifest(url.pathname)) {
    // Cached copy at once, refreshed in the background.
    var k = keyOf(url);
    event.respondWith(caches.open(CACHE).then(function (c) {
      return c.match(k).then(function (hit) {
        var fresh = fetch(req).then(function (res) { if (res.ok) c.put(k, res.clone()); return res; });
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
