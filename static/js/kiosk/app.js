// The desk kiosk: one reception point's form, used by one citizen after another on a shared tablet.
// Each response is kept on the device (IndexedDB, by UUID) and synced like the enumerator app's
// interviews. After a response the thank-you screen stays until the minimum interval has passed, then
// the form starts again from the first question; a half-answered form left alone is cleared.
(function () {
  var root = document.getElementById("kiosk");
  if (!root) return;
  document.documentElement.classList.add("js");
  var $ = function (sel, r) { return (r || document).querySelector(sel); };
  var $$ = function (sel, r) { return Array.prototype.slice.call((r || document).querySelectorAll(sel)); };
  var form = $("#k-form"), start = $("#k-start"), thanks = $("#k-thanks"), unpaired = $("#k-unpaired");
  var INTERVAL = (+root.dataset.interval || 20) * 1000, IDLE = (+root.dataset.idle || 120) * 1000;
  var page = 0, startedAt = null, lastTouch = Date.now(), lastAt = 0, timer = null, paired = false;

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(root.dataset.swUrl + "?shell=" + encodeURIComponent(root.dataset.shell),
      { scope: "/kiosk/" }).catch(function () {});
    navigator.serviceWorker.addEventListener("message", function (e) { if (e.data === "synced") refresh(); });
  }

  // --- staying on the form ------------------------------------------------------------------------
  // The page has no links out; Back and the context menu do nothing; leaving with answers asks first.
  // Screen pinning (Android) or Guided Access (iPad) is set on the tablet itself.
  history.pushState({ kiosk: 1 }, "", location.href);
  window.addEventListener("popstate", function () { history.pushState({ kiosk: 1 }, "", location.href); });
  document.addEventListener("contextmenu", function (e) { e.preventDefault(); });
  window.addEventListener("beforeunload", function (e) {
    if (startedAt) { e.preventDefault(); e.returnValue = ""; }
  });

  // --- status for staff ---------------------------------------------------------------------------
  function refresh() {
    $("#k-net").textContent = navigator.onLine ? "Có mạng" : "Mất mạng";
    return Kiosk.counts().then(function (c) {
      $("#k-pending").textContent = c.pending;
      $("#k-review").textContent = c.review;
      $("#k-review-wrap").hidden = !c.review;
    });
  }
  function sync() {
    if (!navigator.onLine || !paired) return refresh();
    return Kiosk.sync(root.dataset.syncUrl).then(function (out) {
      $("#k-status").textContent = out.auth ? "· Máy cần được ghép lại (phiếu vẫn được giữ)." :
        out.error ? "· " + out.error : "";
      return refresh();
    }).catch(function () { return refresh(); });
  }

  // --- the form -----------------------------------------------------------------------------------
  function values(name) {
    return $$("[name='" + name + "']", form)
      .filter(function (el) { return (el.type !== "radio" && el.type !== "checkbox") || el.checked; })
      .map(function (el) { return el.value; }).filter(function (v) { return v.trim() !== ""; });
  }
  function applySkips() {
    $$(".q[data-show-if]", form).forEach(function (q) {
      var items = JSON.parse(q.dataset.showIf), ins = JSON.parse(q.dataset.showIn), ok = true;
      items.forEach(function (name, i) {
        if (!values(name).some(function (x) { return ins[i].indexOf(x) >= 0; })) ok = false;
      });
      q.hidden = !ok;
    });
  }
  function show(i) {
    var pages = $$(".page", form);
    page = Math.max(0, Math.min(pages.length - 1, i));
    pages.forEach(function (p, j) { p.hidden = j !== page; });
    $(".back", form).hidden = page === 0;
    $(".next", form).hidden = page === pages.length - 1;
    $(".finish", form).hidden = page !== pages.length - 1;
    $(".form-msg", form).textContent = "";
    window.scrollTo(0, 0);
  }
  function reset() {
    form.reset();
    $$(".q-err", form).forEach(function (q) { q.classList.remove("q-err"); });
    startedAt = null;
    applySkips();
    show(0);
    thanks.hidden = true;
    start.hidden = !paired;
    unpaired.hidden = paired;
  }
  function wait(untilMs) {
    // The thank-you screen until the next respondent may start.
    clearInterval(timer);
    start.hidden = true;
    thanks.hidden = false;
    var tick = function () {
      var left = Math.ceil((untilMs - Date.now()) / 1000);
      if (left <= 0) { clearInterval(timer); reset(); return; }
      $("#k-countdown").textContent = left;
    };
    tick();
    timer = setInterval(tick, 500);
  }
  function collect() {
    var answers = {}, missing = null;
    $$(".qwrap", form).forEach(function (w) {
      if ($(".q", w).hidden) return;
      var v = values(w.dataset.item);
      if (!v.length) { if (w.dataset.required === "1" && !missing) missing = w; return; }
      answers[w.dataset.item] = w.dataset.type === "multi" ? v : v[0];
    });
    return { answers: answers, missing: missing };
  }
  function finish() {
    var now = Date.now();
    if (now - lastAt < INTERVAL) { wait(lastAt + INTERVAL); return; }
    var c = collect();
    $$(".q-err", form).forEach(function (q) { q.classList.remove("q-err"); });
    if (c.missing) {
      show($$(".page", form).indexOf(c.missing.closest(".page")));
      $(".q", c.missing).classList.add("q-err");
      $(".form-msg", form).textContent = "Còn câu bắt buộc chưa trả lời (được đánh dấu).";
      c.missing.scrollIntoView({ block: "center" });
      return;
    }
    var ended = new Date(now).toISOString();
    var payload = { uuid: crypto.randomUUID(), questionnaire_version_id: +root.dataset.version, language: "vi",
      answers: c.answers, started_at: startedAt || ended, ended_at: ended };
    $(".finish", form).disabled = true;
    Kiosk.put({ uuid: payload.uuid, payload: payload, status: "pending", saved_at: ended }).then(function () {
      lastAt = now;
      startedAt = null;
      return Kiosk.setMeta({ key: "last", at: now });
    }).then(function () {
      $(".finish", form).disabled = false;
      wait(now + INTERVAL);
      if ("serviceWorker" in navigator && "SyncManager" in window) {
        navigator.serviceWorker.ready.then(function (reg) { return reg.sync.register("sync-kiosk"); }).catch(function () {});
      }
      return sync();
    }).catch(function () {
      $(".finish", form).disabled = false;
      $(".form-msg", form).textContent = "Không lưu được phiếu trên máy. Vui lòng báo cán bộ tại quầy.";
    });
  }

  function touched() {
    lastTouch = Date.now();
    if (!startedAt) startedAt = new Date().toISOString();
  }
  form.addEventListener("change", function () { touched(); applySkips(); });
  form.addEventListener("input", touched);
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  $(".next", form).addEventListener("click", function () { show(page + 1); });
  $(".back", form).addEventListener("click", function () { show(page - 1); });
  $(".finish", form).addEventListener("click", finish);
  setInterval(function () {  // a half-answered form left alone is cleared for the next person
    if (startedAt && thanks.hidden && Date.now() - lastTouch > IDLE) reset();
  }, 5000);
  window.addEventListener("online", sync);
  window.addEventListener("offline", refresh);
  setInterval(sync, 30000);

  Promise.all([Kiosk.meta("token"), Kiosk.meta("last")]).then(function (r) {
    paired = !!(r[0] && r[0].kiosk === root.dataset.kiosk);
    lastAt = r[1] ? +r[1].at || 0 : 0;
    if (lastAt > Date.now()) lastAt = 0;  // a clock set back must not lock the kiosk
    reset();
    if (paired && Date.now() - lastAt < INTERVAL) wait(lastAt + INTERVAL);
    return sync();
  });
})();
