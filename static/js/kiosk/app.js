// The desk kiosk: one reception point's form, used by one citizen after another on a shared tablet.
// Each response is kept on the device (IndexedDB, by UUID) and synced like the enumerator app's
// interviews. After a response the thank-you screen stays until the minimum interval has passed, then
// the form starts again from the first question, in Vietnamese; a half-answered form left alone is cleared.
// Two variants share this script: the citizen form (pages of questions) and the low-literacy form
// (data-ui="easy": one question per screen, driven by static/js/easy.js).
(function () {
  var root = document.getElementById("kiosk");
  if (!root) return;
  document.documentElement.classList.add("js");
  var $ = function (sel, r) { return (r || document).querySelector(sel); };
  var $$ = function (sel, r) { return Array.prototype.slice.call((r || document).querySelectorAll(sel)); };
  var form = $("#k-form"), start = $("#k-start"), thanks = $("#k-thanks"), unpaired = $("#k-unpaired");
  var langs = $(".langs"), EASY = root.dataset.ui === "easy", LANG = root.dataset.lang || "vi", SHELL = root.dataset.shell;
  var send = EASY ? $(".send button", form) : $(".finish", form);
  var INTERVAL = (+root.dataset.interval || 20) * 1000, IDLE = (+root.dataset.idle || 120) * 1000;
  var CARRY = "kiosk-carry";  // answers carried over a language switch (sessionStorage, read once)
  var page = 0, startedAt = null, lastTouch = Date.now(), lastAt = 0, timer = null, paired = false, leaving = false;
  var text = function (key) { return root.dataset["msg" + key] || ""; };

  if ("serviceWorker" in navigator) {
    // The worker caches this page in every language (langs) so the switch works offline too.
    navigator.serviceWorker.register(root.dataset.swUrl + "?shell=" + encodeURIComponent(SHELL) +
      "&langs=" + encodeURIComponent(root.dataset.langs || ""), { scope: "/kiosk/" }).catch(function () {});
    navigator.serviceWorker.addEventListener("message", function (e) { if (e.data === "synced") refresh(); });
  }

  // --- staying on the form ------------------------------------------------------------------------
  // The page has no links out; Back and the context menu do nothing; leaving with answers asks first.
  // Screen pinning (Android) or Guided Access (iPad) is set on the tablet itself.
  history.pushState({ kiosk: 1 }, "", location.href);
  window.addEventListener("popstate", function () { history.pushState({ kiosk: 1 }, "", location.href); });
  document.addEventListener("contextmenu", function (e) { e.preventDefault(); });
  window.addEventListener("beforeunload", function (e) {
    if (startedAt && !leaving) { e.preventDefault(); e.returnValue = ""; }
  });

  // --- languages ----------------------------------------------------------------------------------
  function langUrl(code) { return code === "vi" ? SHELL : SHELL + "?lang=" + encodeURIComponent(code); }
  function cached(url) {
    if (!window.caches) return Promise.resolve(false);
    return caches.match(url).then(function (hit) { return !!hit; }, function () { return false; });
  }
  function go(url) { leaving = true; location.replace(url); }
  function updateLangs() {
    // Hidden on the thank-you screen; offline, a language shows only when its page is kept on the device.
    if (!langs) return;
    langs.hidden = !paired || !thanks.hidden;
    $$("button[name=lang]", langs).forEach(function (b) {
      if (navigator.onLine) { b.hidden = false; return; }
      cached(langUrl(b.value)).then(function (ok) { if (!navigator.onLine) b.hidden = !ok; });
    });
  }
  function snapshot() {
    var answers = {};
    $$("input[name], textarea[name]", form).forEach(function (el) {
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) return;
      if (el.value.trim() === "") return;
      (answers[el.name] = answers[el.name] || []).push(el.value);
    });
    var shown = EASY ? $(".eq:not([hidden])", form) : null;
    return { answers: answers, startedAt: startedAt, page: page, question: shown ? shown.id : null, at: Date.now() };
  }
  function takeCarry() {
    var raw = sessionStorage.getItem(CARRY), c = null;
    sessionStorage.removeItem(CARRY);
    try { c = JSON.parse(raw); } catch (e) { c = null; }
    return c && c.answers && Math.abs(Date.now() - c.at) < 60000 ? c : null;
  }
  function restore(c) {
    if (!c) return;
    $$("input[name], textarea[name]", form).forEach(function (el) {
      var v = c.answers[el.name] || [];
      if (el.type === "radio" || el.type === "checkbox") el.checked = v.indexOf(el.value) >= 0;
      else el.value = v.length ? v[0] : "";
    });
    startedAt = c.startedAt || new Date().toISOString();
    lastTouch = Date.now();
    if (EASY) {
      var q = c.question && document.getElementById(c.question);
      // After easy.js's own reaction to the reset (it goes to the first question in a zero-delay timer).
      if (q) setTimeout(function () { form.dispatchEvent(new CustomEvent("easy-show", { detail: q })); }, 0);
    } else {
      applySkips();
      show(c.page || 0);
    }
  }
  if (langs) langs.addEventListener("click", function (e) {
    var b = e.target.closest("button[name=lang]");
    if (!b) return;
    e.preventDefault();
    if (startedAt) sessionStorage.setItem(CARRY, JSON.stringify(snapshot()));
    go(langUrl(b.value));
  });

  // --- status for staff ---------------------------------------------------------------------------
  function refresh() {
    $("#k-net").textContent = navigator.onLine ? text("Online") : text("Offline");
    return Kiosk.counts().then(function (c) {
      $("#k-pending").textContent = c.pending;
      $("#k-review").textContent = c.review;
      $("#k-review-wrap").hidden = !c.review;
    });
  }
  function sync() {
    if (!navigator.onLine || !paired) return refresh();
    return Kiosk.sync(root.dataset.syncUrl).then(function (out) {
      $("#k-status").textContent = out.auth ? text("Repair") : out.error ? "· " + out.error : "";
      return refresh();
    }).catch(function () { return refresh(); });
  }

  // --- the form -----------------------------------------------------------------------------------
  function values(name) {
    return $$("[name='" + name + "']", form)
      .filter(function (el) { return (el.type !== "radio" && el.type !== "checkbox") || el.checked; })
      .map(function (el) { return el.value; }).filter(function (v) { return v.trim() !== ""; });
  }
  function shownBySkips(q) {
    if (!q.dataset.showIf) return true;
    var items = JSON.parse(q.dataset.showIf), ins = JSON.parse(q.dataset.showIn);
    return items.every(function (name, i) {
      return values(name).some(function (x) { return ins[i].indexOf(x) >= 0; });
    });
  }
  function applySkips() {  // the citizen form variant; easy.js skips questions itself
    if (!EASY) $$(".q[data-show-if]", form).forEach(function (q) { q.hidden = !shownBySkips(q); });
  }
  function show(i, focus) {
    if (EASY) return;
    var pages = $$(".page", form);
    page = Math.max(0, Math.min(pages.length - 1, i));
    pages.forEach(function (p, j) { p.hidden = j !== page; });
    $(".back", form).hidden = page === 0;
    $(".next", form).hidden = page === pages.length - 1;
    $(".finish", form).hidden = page !== pages.length - 1;
    $(".form-msg", form).textContent = "";
    window.scrollTo(0, 0);
    if (focus) $("h2", pages[page]).focus();  // the pressed button may be gone: announce the new page
  }
  function unmark() {
    $$(".q-err", form).forEach(function (q) { q.classList.remove("q-err"); q.removeAttribute("aria-describedby"); });
    $(".form-msg", form).textContent = "";
  }
  function reset() {
    form.reset();  // easy.js goes back to the first question on this event
    unmark();
    startedAt = null;
    applySkips();
    show(0);
    thanks.hidden = true;
    start.hidden = !paired;
    unpaired.hidden = paired;
    updateLangs();
  }
  function nextRespondent() {
    // A shared device: the next person starts in Vietnamese, whatever the last one chose. Offline without a
    // kept Vietnamese page (never expected: it is cached first) the form restarts in the current language.
    if (LANG === "vi") { reset(); return; }
    cached(SHELL).then(function (ok) { if (ok || navigator.onLine) go(SHELL); else reset(); });
  }
  function wait(untilMs) {
    // The thank-you screen until the next respondent may start.
    clearInterval(timer);
    start.hidden = true;
    thanks.hidden = false;
    updateLangs();
    var tick = function () {
      var left = Math.ceil((untilMs - Date.now()) / 1000);
      if (left <= 0) { clearInterval(timer); nextRespondent(); return; }
      $("#k-countdown").textContent = left;
    };
    tick();
    timer = setInterval(tick, 500);
  }
  function collect() {
    var answers = {}, missing = null;
    $$("fieldset.q[id^='q-']", form).forEach(function (q) {
      if (!shownBySkips(q)) return;
      var name = q.id.slice(2), v = values(name), wrap = q.closest(".qwrap");
      var required = (wrap ? wrap.dataset.required : q.dataset.required) === "1";
      if (!v.length) { if (required && !missing) missing = q; return; }
      answers[name] = $("input[type=checkbox]", q) ? v : v[0];
    });
    return { answers: answers, missing: missing };
  }
  function finish() {
    var now = Date.now();
    if (now - lastAt < INTERVAL) { wait(lastAt + INTERVAL); return; }
    var c = collect();
    unmark();
    if (c.missing) {
      // Marked, described by the message (an alert) and focused, as the citizen form does after a 422.
      c.missing.classList.add("q-err");
      c.missing.setAttribute("aria-describedby", "k-msg");
      if (EASY) {
        form.dispatchEvent(new CustomEvent("easy-show", { detail: c.missing }));
      } else {
        show($$(".page", form).indexOf(c.missing.closest(".page")));
        c.missing.scrollIntoView({ block: "center" });
        $("input, textarea", c.missing).focus({ preventScroll: true });
      }
      $(".form-msg", form).textContent = text("Missing");
      return;
    }
    var ended = new Date(now).toISOString();
    var payload = { uuid: crypto.randomUUID(), questionnaire_version_id: +root.dataset.version, language: LANG,
      answers: c.answers, started_at: startedAt || ended, ended_at: ended };
    send.disabled = true;
    Kiosk.put({ uuid: payload.uuid, payload: payload, status: "pending", saved_at: ended }).then(function () {
      lastAt = now;
      startedAt = null;
      return Kiosk.setMeta({ key: "last", at: now });
    }).then(function () {
      send.disabled = false;
      wait(now + INTERVAL);
      $("h1", thanks).focus();
      if ("serviceWorker" in navigator && "SyncManager" in window) {
        navigator.serviceWorker.ready.then(function (reg) { return reg.sync.register("sync-kiosk"); }).catch(function () {});
      }
      return sync();
    }).catch(function () {
      send.disabled = false;
      $(".form-msg", form).textContent = text("Unsaved");
    });
  }

  function touched() {
    lastTouch = Date.now();
    if (!startedAt) startedAt = new Date().toISOString();
  }
  form.addEventListener("change", function () { touched(); applySkips(); });
  form.addEventListener("input", touched);
  form.addEventListener("submit", function (e) { e.preventDefault(); if (EASY) finish(); });
  if (!EASY) {
    $(".next", form).addEventListener("click", function () { show(page + 1, true); });
    $(".back", form).addEventListener("click", function () { show(page - 1, true); });
    $(".finish", form).addEventListener("click", finish);
  }
  setInterval(function () {  // a half-answered form left alone is cleared for the next person
    if (startedAt && thanks.hidden && Date.now() - lastTouch > IDLE) nextRespondent();
  }, 5000);
  window.addEventListener("online", function () { updateLangs(); sync(); });
  window.addEventListener("offline", function () { updateLangs(); refresh(); });
  setInterval(sync, 30000);

  var carry = takeCarry();
  Promise.all([Kiosk.meta("token"), Kiosk.meta("last")]).then(function (r) {
    paired = !!(r[0] && r[0].kiosk === root.dataset.kiosk);
    lastAt = r[1] ? +r[1].at || 0 : 0;
    if (lastAt > Date.now()) lastAt = 0;  // a clock set back must not lock the kiosk
    reset();
    if (paired && Date.now() - lastAt < INTERVAL) wait(lastAt + INTERVAL);
    else if (paired) restore(carry);
    return sync();
  });
})();
