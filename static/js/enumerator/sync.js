// Records kept on the device (IndexedDB, keyed by UUID) and their sync. Used by the page and by the
// service worker (Background Sync). A record leaves the device only when the server answers "stored"
// or "duplicate" for its UUID; conflicts and invalid items stay for review.
// OfflineQueue(options) serves the enumerator app (DieuTra, below) and the desk kiosk (static/js/kiosk/).
var OfflineQueue = function (options) {
  var DB = options.db, STORE = options.store, BODY = options.body, CHUNK = 20, running = null;

  function open() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () {
        req.result.createObjectStore(STORE, { keyPath: "uuid" });
        req.result.createObjectStore("meta", { keyPath: "key" });
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function tx(store, mode, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(store, mode), result;
        var req = fn(t.objectStore(store));
        if (req) req.onsuccess = function () { result = req.result; };
        t.oncomplete = function () { db.close(); resolve(result); };
        t.onerror = t.onabort = function () { db.close(); reject(t.error); };
      });
    });
  }
  var api = {
    all: function () { return tx(STORE, "readonly", function (s) { return s.getAll(); }); },
    put: function (rec) { return tx(STORE, "readwrite", function (s) { return s.put(rec); }); },
    remove: function (uuid) { return tx(STORE, "readwrite", function (s) { return s.delete(uuid); }); },
    meta: function (key) { return tx("meta", "readonly", function (s) { return s.get(key); }); },
    setMeta: function (rec) { return tx("meta", "readwrite", function (s) { return s.put(rec); }); },
    counts: function () {
      return api.all().then(function (rows) {
        var c = { pending: 0, review: 0 };
        rows.forEach(function (r) { if (r.status === "pending") c.pending++; else c.review++; });
        return c;
      });
    },
    sync: function (syncUrl) {
      // One sync at a time across the page and the service worker (Web Locks), so they never race.
      var go = function () { return run(syncUrl || options.url); };
      var locks = self.navigator && self.navigator.locks;
      if (!running) running = (locks ? locks.request(options.lock, go) : go()).finally(function () { running = null; });
      return running;
    }
  };

  function send(url, token, recs) {
    var body = {};
    body[BODY] = recs.map(function (r) { return r.payload; });
    return fetch(url, {
      method: "POST", credentials: "omit", cache: "no-store",
      headers: { "Content-Type": "application/json", "Authorization": "Bearer " + token },
      body: JSON.stringify(body)
    });
  }

  async function run(url) {
    var out = { stored: 0, duplicate: 0, conflict: 0, invalid: 0, auth: false, offline: false, error: "" };
    var token = await api.meta("token");
    var pending = (await api.all()).filter(function (r) { return r.status === "pending"; });
    if (!pending.length) return out;
    if (!token) { out.auth = true; return out; }
    var size = CHUNK, retries = 0;
    for (var i = 0; i < pending.length;) {
      var chunk = pending.slice(i, i + size), res;
      try { res = await send(url, token.value, chunk); } catch (e) { out.offline = true; return out; }
      if (res.status >= 500 && retries < 3) {  // a busy server: wait a little and send the same chunk again
        retries++;
        await new Promise(function (ok) { setTimeout(ok, 1000 * retries); });
        continue;
      }
      if (res.status === 401) { out.auth = true; return out; }
      if (res.status === 413 && chunk.length > 1) { size = Math.max(1, Math.floor(chunk.length / 2)); continue; }
      if (res.status === 413) {
        chunk[0].status = "invalid"; chunk[0].message = "Phiếu quá lớn để gửi."; await api.put(chunk[0]);
        out.invalid++; i += 1; continue;
      }
      if (!res.ok) { out.error = "Máy chủ trả lỗi " + res.status + "; phiếu vẫn được giữ trên máy."; return out; }
      var body = await res.json(), byId = {};
      chunk.forEach(function (r) { byId[r.uuid] = r; });
      for (var j = 0; j < body.results.length; j++) {
        var r = body.results[j], rec = byId[r.uuid];
        if (!rec) continue;
        out[r.status] = (out[r.status] || 0) + 1;
        if (r.status === "stored" || r.status === "duplicate") await api.remove(rec.uuid);
        else { rec.status = r.status; rec.message = r.message; rec.errors = r.errors; await api.put(rec); }
      }
      i += chunk.length;
    }
    return out;
  }
  return api;
};
var DieuTra = OfflineQueue({ db: "dieutra", store: "interviews", body: "interviews", lock: "dieutra-sync",
  url: "/api/v1/interviews" });
