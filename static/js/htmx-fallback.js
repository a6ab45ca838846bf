// Load the vendored htmx when the CDN copy did not arrive (no connection, blocked CDN, SRI mismatch).
// htmx initialises on DOMContentLoaded, which has already fired when a late copy arrives: re-dispatch it.
(function () {
  var me = document.currentScript;
  if (window.htmx) return;
  var s = document.createElement("script");
  s.src = me.getAttribute("data-local");
  s.onload = function () { document.dispatchEvent(new Event("DOMContentLoaded")); };
  document.head.appendChild(s);
})();
