// Enhances the citizen form: one page at a time and client-side skip logic. The server validates
// everything again; without this script every question is shown and the form still works.
(function () {
  function init() {
    var form = document.getElementById("survey");
    if (!form || form.dataset.enhanced) return;
    form.dataset.enhanced = "1";
    document.documentElement.classList.add("js");
    var pages = Array.prototype.slice.call(form.querySelectorAll(".page"));
    var submit = form.querySelector(".actions");
    var current = 0;
    var firstErr = form.querySelector(".q-err");
    if (firstErr) current = pages.indexOf(firstErr.closest(".page"));

    function values(name) {
      return Array.prototype.slice.call(form.querySelectorAll("[name='" + name + "']"))
        .filter(function (el) { return (el.type !== "radio" && el.type !== "checkbox") || el.checked; })
        .map(function (el) { return el.value; });
    }
    function applySkips() {
      form.querySelectorAll(".q[data-show-if]").forEach(function (q) {
        var items = JSON.parse(q.dataset.showIf), ins = JSON.parse(q.dataset.showIn), ok = true;
        items.forEach(function (name, i) {
          var v = values(name);
          if (!v.some(function (x) { return ins[i].indexOf(x) >= 0; })) ok = false;
        });
        q.hidden = !ok;
      });
    }
    function nav(label, delta) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      b.addEventListener("click", function () { show(current + delta, true); });
      return b;
    }
    function show(i, scroll) {
      current = Math.max(0, Math.min(pages.length - 1, i));
      pages.forEach(function (p, j) { p.hidden = j !== current; });
      submit.hidden = current !== pages.length - 1;
      form.querySelectorAll(".pager").forEach(function (n) { n.remove(); });
      var bar = document.createElement("div");
      bar.className = "actions pager";
      if (current > 0) bar.appendChild(nav(form.dataset.back || "Quay lại", -1));
      if (current < pages.length - 1) {
        var next = nav(form.dataset.next || "Tiếp", 1);
        next.className = "primary";
        bar.appendChild(next);
      }
      pages[current].appendChild(bar);
      if (scroll) {  // "Tiếp"/"Quay lại" removed the focused button: put the focus on the new page's heading
        var heading = pages[current].querySelector("h2");
        if (heading) {
          heading.tabIndex = -1;
          heading.focus({ preventScroll: true });
        }
        pages[current].scrollIntoView();
      }
    }
    form.addEventListener("change", applySkips);
    applySkips();
    show(current);
    var notice = form.querySelector(".notice");
    if (firstErr) {  // after a 422 swap: bring the first problem into view and focus it
      firstErr.scrollIntoView({ block: "center" });
      var input = firstErr.querySelector("input, textarea");
      if (input) input.focus({ preventScroll: true });
    } else if (notice) {
      notice.scrollIntoView({ block: "center" });
    }
  }
  init();
  // afterSettle, not afterSwap: htmx applies the new classes (q-err) only when the swap settles.
  document.addEventListener("htmx:afterSettle", init);
})();
