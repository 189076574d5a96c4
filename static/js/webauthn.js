// Passkeys and security keys: runs the WebAuthn ceremony a page asks for and posts the
// authenticator's answer in that page's form. No framework, no inline script; its messages come
// from the page, in the page's language.
//
// A button with data-webauthn="create" holds registration options (data-options); one with
// data-webauthn="get" fetches sign-in options from data-options-url (a POST with the form's CSRF
// token). Either fills the form's `credential` field with the answer (JSON, base64url) and
// submits it. The sign-in page also offers passkeys in the username field's autofill
// (conditional mediation) where the browser supports it.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  function fromB64url(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var raw = atob(b64), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }
  function toB64url(buffer) {
    if (!buffer) return null;
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function withIds(list) {
    return (list || []).map(function (c) {
      return Object.assign({}, c, { id: fromB64url(c.id) });
    });
  }
  function creationOptions(json) {
    var o = Object.assign({}, json.publicKey);
    o.challenge = fromB64url(o.challenge);
    o.user = Object.assign({}, o.user, { id: fromB64url(o.user.id) });
    o.excludeCredentials = withIds(o.excludeCredentials);
    return o;
  }
  function requestOptions(json) {
    var o = Object.assign({}, json.publicKey);
    o.challenge = fromB64url(o.challenge);
    o.allowCredentials = withIds(o.allowCredentials);
    return o;
  }
  function answer(credential) {
    var r = credential.response, response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      if (r.getTransports) response.transports = r.getTransports();
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      response.userHandle = toB64url(r.userHandle);
    }
    return JSON.stringify({
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      response: response,
      extensions: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {}
    });
  }
  function post(form, credential) {
    form.querySelector("input[name=credential]").value = answer(credential);
    // A checkbox that lives in another form of the page ("don't ask again on this browser").
    form.querySelectorAll("input[data-copy-of]").forEach(function (copy) {
      var box = document.getElementById(copy.getAttribute("data-copy-of"));
      copy.value = box && box.checked ? box.value : "";
    });
    form.submit();
  }
  function say(button, name) {
    var status = document.getElementById(button.getAttribute("data-status"));
    if (status) status.textContent = button.getAttribute("data-" + name) || "";
  }
  function fetchOptions(button, form) {
    var csrf = form.querySelector("input[name=csrf_token]").value;
    return fetch(button.getAttribute("data-options-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "csrf_token=" + encodeURIComponent(csrf)
    }).then(function (r) {
      if (!r.ok) throw new Error("options " + r.status);
      return r.json();
    });
  }

  var autofill = null; // the pending conditional request, aborted when a button is used
  function get(button, form, conditional) {
    if (autofill) { autofill.abort(); autofill = null; }
    var controller = new AbortController();
    if (conditional) autofill = controller;
    return fetchOptions(button, form).then(function (json) {
      var request = { publicKey: requestOptions(json), signal: controller.signal };
      if (conditional) request.mediation = "conditional";
      return navigator.credentials.get(request);
    }).then(function (credential) {
      if (credential) { say(button, "working"); post(form, credential); }
    });
  }

  document.querySelectorAll("[data-webauthn]").forEach(function (button) {
    var form = document.getElementById(button.getAttribute("data-form"));
    if (!form) return;
    button.hidden = false;
    var box = button.closest("[data-webauthn-box]");
    if (box) box.hidden = false;
    button.addEventListener("click", function () {
      say(button, "waiting");
      var ceremony;
      if (button.getAttribute("data-webauthn") === "create") {
        var json = JSON.parse(button.getAttribute("data-options"));
        ceremony = navigator.credentials.create({ publicKey: creationOptions(json) })
          .then(function (credential) { say(button, "working"); post(form, credential); });
      } else {
        ceremony = get(button, form, false);
      }
      ceremony.catch(function (e) {
        if (e && e.name === "AbortError") return;
        if (window.console) console.warn("WebAuthn: " + (e && e.name) + ": " + (e && e.message));
        say(button, "failed");
      });
    });
    if (button.hasAttribute("data-autofill") && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (yes) {
        if (yes) get(button, form, true).catch(function () {});
      });
    }
  });
})();
