// Polls until the phone approves the QR sign-in, then continues. No framework, no inline script.
(function () {
  var box = document.getElementById("qr-login");
  if (!box) return;
  var status = document.getElementById("qr-status");
  var interval = parseInt(box.getAttribute("data-interval"), 10) || 5000;
  var body = "csrf_token=" + encodeURIComponent(box.getAttribute("data-csrf"));
  function say(text) { status.textContent = text; }
  function poll() {
    fetch("/login/qr/poll", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body
    }).then(function (r) { return r.json(); }).then(function (answer) {
      if (answer.status === "approved") {
        say("Signed in. Continuing…");
        window.location.assign(answer.next || "/");
      } else if (answer.status === "denied") {
        say("Sign-in was cancelled on the phone. Reload the page to try again.");
      } else if (answer.status === "expired") {
        say("This code has expired. Reload the page for a new one.");
      } else {
        setTimeout(poll, interval);
      }
    }).catch(function () {
      say("Connection lost. Retrying…");
      setTimeout(poll, interval * 2);
    });
  }
  setTimeout(poll, interval);
})();
