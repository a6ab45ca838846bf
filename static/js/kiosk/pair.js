// Pairing: exchange the one-time link for the kiosk's token, keep it on the device, open the kiosk page
// (the citizen form or the low-literacy variant, as chosen on the pairing page).
(function () {
  var box = document.getElementById("pair");
  if (!box) return;
  var msg = document.getElementById("pair-msg"), go = document.getElementById("pair-go");
  go.addEventListener("click", function () {
    go.disabled = true;
    msg.textContent = "";
    fetch(box.dataset.pairUrl, { method: "POST", credentials: "omit", cache: "no-store" })
      .then(function (res) {
        return res.json().then(function (body) {
          if (!res.ok) throw new Error(body.detail || "Không ghép được máy.");
          return Kiosk.setMeta({ key: "token", value: body.token, kiosk: body.kiosk }).then(function () {
            var easy = box.querySelector("input[name=ui][value=easy]");
            location.replace(easy && easy.checked ? body.easy_url : body.url);
          });
        });
      })
      .catch(function (e) {
        go.disabled = false;
        msg.textContent = e && e.message && e.message.indexOf("fetch") < 0 ? e.message : "Chưa có mạng: vui lòng thử lại khi có mạng.";
      });
  });
})();
