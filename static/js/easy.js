// Low-literacy mode: one question per screen, audio on demand, tap a face to answer and move on.
// Without this script every question is shown in a long page and the form still works.
// Also drives the desk kiosk's low-literacy variant (kiosk/easy.html): a form reset starts again at the first
// question, and an "easy-show" event (detail: a question's fieldset) shows that question.
(function () {
  var form = document.querySelector("form.easy-form");
  if (!form) return;
  document.documentElement.classList.add("js");
  var qs = Array.prototype.slice.call(form.querySelectorAll(".eq"));
  var send = form.querySelector(".send");
  var player = new Audio();
  var current = 0;
  var lastPointer = 0;  // time of the last tap or click inside the form
  var firstErr = form.querySelector(".q-err");
  if (firstErr) current = qs.indexOf(firstErr);

  function play(src) { if (!src) return; player.pause(); player.src = src; player.play().catch(function () {}); }
  function values(name) {
    return Array.prototype.slice.call(form.querySelectorAll("[name='" + name + "']"))
      .filter(function (el) { return (el.type !== "radio" && el.type !== "checkbox") || el.checked; })
      .map(function (el) { return el.value; });
  }
  function visible(q) {
    if (!q.dataset.showIf) return true;
    var items = JSON.parse(q.dataset.showIf), ins = JSON.parse(q.dataset.showIn);
    return items.every(function (name, i) { return values(name).some(function (v) { return ins[i].indexOf(v) >= 0; }); });
  }
  function answered(q) {  // the send button waits for an answer to a required last question
    if (!q.dataset.required) return true;
    return Array.prototype.some.call(q.querySelectorAll("input, textarea"), function (el) {
      return (el.type === "radio" || el.type === "checkbox") ? el.checked : el.value.trim() !== "";
    });
  }
  function step(from, dir) {
    for (var i = from + dir; i >= 0 && i < qs.length; i += dir) if (visible(qs[i])) return i;
    return -1;
  }
  function show(i, focus) {
    current = i;
    qs.forEach(function (q, j) { q.hidden = j !== i; });
    send.hidden = step(i, 1) !== -1 || !answered(qs[i]);
    form.querySelectorAll(".pager").forEach(function (n) { n.remove(); });
    var bar = document.createElement("div");
    bar.className = "actions pager";
    if (step(i, -1) !== -1) bar.appendChild(button(form.dataset.back, function () { show(step(current, -1), true); }));
    if (step(i, 1) !== -1) bar.appendChild(button(form.dataset.next, function () { show(step(current, 1), true); }, true));
    qs[i].appendChild(bar);
    qs[i].scrollIntoView({ block: "start" });
    if (focus) {  // the pressed button is gone: move the focus to the new question so it is announced
      var legend = qs[i].querySelector("legend");
      legend.tabIndex = -1;
      legend.focus({ preventScroll: true });
    }
  }
  function button(label, onClick, primary) {
    var b = document.createElement("button");
    b.type = "button"; b.textContent = label; if (primary) b.className = "primary";
    b.addEventListener("click", onClick);
    return b;
  }
  form.addEventListener("click", function (e) {
    var p = e.target.closest(".play");
    if (p) { e.preventDefault(); play(p.dataset.src); }
  });
  form.addEventListener("pointerdown", function () { lastPointer = Date.now(); });
  form.addEventListener("change", function (e) {
    var label = e.target.closest("label");
    if (label && label.dataset.audio) play(label.dataset.audio);
    if (e.target.type === "radio") {
      var next = step(current, 1);
      // Only a tap moves on by itself: arrow keys change the choice and must not leave the question (WCAG 3.2.2).
      if (next !== -1 && Date.now() - lastPointer < 1500) setTimeout(function () { show(next); }, 700);
      else send.hidden = !answered(qs[current]);
    }
  });
  function first() { return visible(qs[0]) ? 0 : Math.max(0, step(0, 1)); }
  form.addEventListener("reset", function () {
    setTimeout(function () { show(first()); }, 0);  // "reset" fires before the fields are cleared
  });
  form.addEventListener("easy-show", function (e) {
    var i = qs.indexOf(e.detail);
    if (i >= 0) show(i, true);
  });
  if (!visible(qs[current])) current = step(current, 1);
  show(current < 0 ? 0 : current);
})();
