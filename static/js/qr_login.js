// Polls until the phone approves the QR sign-in, then continues. No framework, no inline script;
// its messages come from the page, in the page's language.
(function () {
  var box = document.getElementById("qr-login");
  if (!box) return;
  var status = document.getElementById("qr-status");
  var renew = document.getElementById("qr-renew");
  var interval = parseInt(box.getAttribute("data-interval"), 10) || 5000;
  var body = "csrf_token=" + encodeURIComponent(box.getAttribute("data-csrf"));
  function say(name) { status.textContent = box.getAttribute("data-" + name); }
  function offerNewCode() { if (renew) renew.hidden = false; }
  function poll() {
    fetch("/login/qr/poll", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body
    }).then(function (r) { return r.json(); }).then(function (answer) {
      if (answer.status === "approved") {
        say("approved");
        // A moment for the live region to be read out before the page changes.
        setTimeout(function () { window.location.assign(answer.next || "/"); }, 1000);
      } else if (answer.status === "denied") {
        say("denied");
        offerNewCode();
      } else if (answer.status === "expired") {
        say("expired");
        offerNewCode();
      } else {
        setTimeout(poll, interval);
      }
    }).catch(function () {
      say("retrying");
      setTimeout(poll, interval * 2);
    });
  }
  setTimeout(poll, interval);
})();
