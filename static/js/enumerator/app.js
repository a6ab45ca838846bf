// The tablet app: interviews are saved on the device first, then synced (on load, when the connection
// returns, every minute, on "Đồng bộ ngay", and by Background Sync where the browser has it).
(function () {
  var app = document.getElementById("app");
  if (!app) return;
  document.documentElement.classList.add("js");
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };
  var home = $("#home"), status = $("#sync-status"), current = null;

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(app.dataset.swUrl, { scope: "/enumerator/" }).catch(function () {});
    navigator.serviceWorker.addEventListener("message", function (e) { if (e.data === "synced") refresh(); });
  }

  function refresh() {
    $("#net").textContent = navigator.onLine ? "Có mạng" : "Mất mạng";
    return DieuTra.counts().then(function (c) {
      $("#unsynced").textContent = c.pending;
      $("#review-count").textContent = c.review;
      $("#review-wrap").hidden = !c.review;
      return DieuTra.all();
    }).then(function (rows) {
      var list = $("#queue");
      list.textContent = "";
      rows.forEach(function (r) {
        var li = document.createElement("li");
        li.className = "rec " + r.status;
        li.textContent = r.village + " · " + new Date(r.payload.ended_at).toLocaleString("vi-VN") + " · " +
          (r.status === "pending" ? "Chưa đồng bộ" : (r.status === "conflict" ? "Xung đột: " : "Cần sửa: ") + (r.message || ""));
        list.appendChild(li);
      });
    });
  }

  function ensureToken(force) {
    return DieuTra.meta("token").then(function (t) {
      if (t && t.user === app.dataset.user && !force) return t;
      if (!navigator.onLine) return t;
      return fetch(app.dataset.tokenUrl, { method: "POST", credentials: "same-origin", redirect: "manual" })
        .then(function (res) {
          if (!res.ok) return null;
          return res.json().then(function (b) {
            var rec = { key: "token", value: b.token, user: b.user, expires_at: b.expires_at };
            return DieuTra.setMeta(rec).then(function () { return rec; });
          });
        }).catch(function () { return t; });
    });
  }

  function sync(manual) {
    if (!navigator.onLine && !manual) return refresh();
    status.textContent = "Đang đồng bộ…";
    return DieuTra.sync(app.dataset.syncUrl).then(function (out) {
      if (!out.auth) return out;
      return ensureToken(true).then(function (t) { return t ? DieuTra.sync(app.dataset.syncUrl) : out; });
    }).then(function (out) {
      $("#login-again").hidden = !out.auth;
      if (out.offline) status.textContent = "Chưa có mạng: phiếu được giữ trên máy và sẽ tự gửi khi có mạng.";
      else if (out.auth) status.textContent = "Cần đăng nhập lại để đồng bộ.";
      else if (out.error) status.textContent = out.error;
      else status.textContent = "Đã đồng bộ: " + out.stored + " phiếu mới, " + out.duplicate + " phiếu đã có" +
        (out.conflict + out.invalid ? ", " + (out.conflict + out.invalid) + " phiếu cần xem lại" : "") + ".";
      return refresh();
    }).catch(function () { status.textContent = "Đồng bộ chưa xong; phiếu vẫn được giữ trên máy."; return refresh(); });
  }

  // --- interview form -------------------------------------------------------------------------------
  function values(form, name) {
    return $$("[name='" + name + "']", form)
      .filter(function (el) { return (el.type !== "radio" && el.type !== "checkbox") || el.checked; })
      .map(function (el) { return el.value; }).filter(function (v) { return v.trim() !== ""; });
  }
  function applySkips(form) {
    $$(".q[data-show-if]", form).forEach(function (q) {
      var items = JSON.parse(q.dataset.showIf), ins = JSON.parse(q.dataset.showIn), ok = true;
      items.forEach(function (name, i) {
        if (!values(form, name).some(function (x) { return ins[i].indexOf(x) >= 0; })) ok = false;
      });
      q.hidden = !ok;
    });
  }
  function show(i) {
    var pages = $$(".page", current.form), f = current.form;
    var now = Date.now(), key = pages[current.page].dataset.page;
    current.times[key] = (current.times[key] || 0) + (now - current.shownAt) / 1000;
    current.shownAt = now;
    var completed = values(f, "_outcome")[0] === "completed";
    current.page = Math.max(0, Math.min(completed ? pages.length - 1 : 0, i));
    pages.forEach(function (p, j) { p.hidden = j !== current.page; });
    var last = current.page === pages.length - 1 || !completed;
    $(".back", f).hidden = current.page === 0;
    $(".next", f).hidden = last;
    $(".finish", f).hidden = !last;
    $(".finish", f).textContent = completed ? "Hoàn thành phỏng vấn" : "Lưu kết quả tiếp xúc";
    $(".form-msg", f).textContent = "";
    window.scrollTo(0, 0);
  }
  function start(btn) {
    var form = document.getElementById("iv-" + btn.dataset.version);
    form.reset();
    $$(".q-err", form).forEach(function (q) { q.classList.remove("q-err"); });
    current = { form: form, assignment: +btn.dataset.assignment, village: btn.dataset.village, page: 0,
      uuid: crypto.randomUUID(), started: new Date().toISOString(), shownAt: Date.now(), times: {}, gps: null };
    $(".village", form).textContent = "Thôn/bản: " + btn.dataset.village;
    $(".gps-note", form).textContent = "";
    home.hidden = true;
    form.hidden = false;
    applySkips(form);
    show(0);
  }
  function collect(form) {
    var answers = {}, missing = null;
    $$(".qwrap", form).forEach(function (w) {
      if ($(".q", w).hidden) return;
      var v = values(form, w.dataset.item);
      if (!v.length) { if (w.dataset.required === "1" && !missing) missing = w; return; }
      answers[w.dataset.item] = w.dataset.type === "multi" ? v : v[0];
    });
    return { answers: answers, missing: missing };
  }
  function finish() {
    var f = current.form, outcome = values(f, "_outcome")[0];
    var adult = values(f, "_adult").length > 0, used = values(f, "_used").length > 0;
    var payload = { uuid: current.uuid, assignment_id: current.assignment, outcome: outcome, language: "vi",
      questionnaire_version_id: +f.dataset.version, answers: {}, started_at: current.started,
      ended_at: new Date().toISOString(), page_seconds: {}, eligibility: { adult: adult, used_service: used },
      gps_consent: values(f, "_gps_consent").length > 0 && !!current.gps, gps: null };
    if (outcome === "completed") {
      if (!adult || !used) {
        show(0);
        $(".form-msg", f).textContent = "Người trả lời phải từ 18 tuổi và đã sử dụng dịch vụ; nếu không, chọn “Không đủ điều kiện”.";
        return;
      }
      var c = collect(f);
      if (c.missing) {
        show($$(".page", f).indexOf(c.missing.closest(".page")));
        c.missing.querySelector(".q").classList.add("q-err");
        $(".form-msg", f).textContent = "Còn câu bắt buộc chưa trả lời (được đánh dấu).";
        return;
      }
      payload.answers = c.answers;
    } else {
      payload.questionnaire_version_id = null;
    }
    show(current.page);  // adds the time of the last page
    payload.page_seconds = current.times;
    if (payload.gps_consent) payload.gps = current.gps;
    DieuTra.put({ uuid: payload.uuid, payload: payload, status: "pending", village: current.village,
      saved_at: new Date().toISOString() }).then(function () {
      f.hidden = true;
      home.hidden = false;
      current = null;
      status.textContent = "Đã lưu phiếu trên máy.";
      if ("serviceWorker" in navigator && "SyncManager" in window) {
        navigator.serviceWorker.ready.then(function (reg) { return reg.sync.register("sync-interviews"); }).catch(function () {});
      }
      return sync(false);
    });
  }

  $$(".start").forEach(function (b) { b.addEventListener("click", function () { start(b); }); });
  $$("form.interview").forEach(function (f) {
    f.addEventListener("change", function () { applySkips(f); if (current) show(current.page); });
    f.addEventListener("submit", function (e) { e.preventDefault(); });
    $(".next", f).addEventListener("click", function () { show(current.page + 1); });
    $(".back", f).addEventListener("click", function () { show(current.page - 1); });
    $(".finish", f).addEventListener("click", finish);
    $(".cancel", f).addEventListener("click", function () { f.hidden = true; home.hidden = false; current = null; });
    $(".gps", f).addEventListener("click", function () {
      var note = $(".gps-note", f);
      if (!values(f, "_gps_consent").length) { note.textContent = "Cần người trả lời đồng ý trước."; return; }
      if (!navigator.geolocation) { note.textContent = "Máy không hỗ trợ GPS."; return; }
      navigator.geolocation.getCurrentPosition(function (p) {
        current.gps = { lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: p.coords.accuracy };
        note.textContent = "Đã ghi vị trí (±" + Math.round(p.coords.accuracy) + " m).";
      }, function () { note.textContent = "Không lấy được vị trí."; }, { timeout: 15000 });
    });
  });
  $("#sync-now").addEventListener("click", function () { sync(true); });
  window.addEventListener("online", function () { sync(false); });
  window.addEventListener("offline", refresh);
  setInterval(function () { sync(false); }, 60000);
  ensureToken(false).then(function () { return sync(false); });
})();
