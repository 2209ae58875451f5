// Vigil dashboard: small progressive enhancements only; every page works without this file.
(function () {
  "use strict";
  // Sign-in: preselect the browser's own time zone.
  var zoneSelect = document.querySelector("select[data-detect-timezone]");
  if (zoneSelect && window.Intl) {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    for (var i = 0; i < zoneSelect.options.length; i++) {
      if (zoneSelect.options[i].value === zone) { zoneSelect.selectedIndex = i; break; }
    }
    // The API key form has no select of its own: it takes the same zone.
    document.querySelectorAll("input[data-detect-timezone-copy]").forEach(function (input) {
      input.value = zoneSelect.value;
    });
  }
  // Choosing an event type loads its fields at once.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { if (select.value) { select.form.submit(); } });
  });
  document.querySelectorAll("[data-hide-with-js]").forEach(function (el) { el.hidden = true; });
  // Subscription form: show only the fields of the chosen channel.
  var kind = document.querySelector("select[data-channel-kind]");
  if (kind) {
    var sync = function () {
      document.querySelectorAll("[data-for-kinds]").forEach(function (el) {
        el.hidden = el.getAttribute("data-for-kinds").split(" ").indexOf(kind.value) < 0;
      });
    };
    kind.addEventListener("change", sync);
    sync();
  }
  // Countdowns ("removal in 31 h") stay current on a page left open, on the server's clock, not the laptop's.
  var stamps = document.querySelectorAll("[data-countdown]");
  var serverNow = Date.parse(document.body.getAttribute("data-server-now") || "");
  if (stamps.length && !isNaN(serverNow)) {
    var skew = serverNow - Date.now();
    // The page's language gives the words ({n} a number, {a} an amount); English when it gives none.
    var words = {"min": "{n} min", "h": "{n} h", "d": "{n} d", "in": "in {a}", "ago": "{a} ago"};
    try { words = JSON.parse(document.body.getAttribute("data-countdown-words")) || words; } catch (e) { /* English */ }
    var phrase = function (ms) {  // the same units as service/web/display.py countdown()
      var seconds = Math.abs(ms) / 1000, amount;
      if (seconds < 3600) { amount = words.min.replace("{n}", Math.max(1, Math.floor(seconds / 60))); }
      else if (seconds < 72 * 3600) { amount = words.h.replace("{n}", Math.floor(seconds / 3600)); }
      else { amount = words.d.replace("{n}", Math.floor(seconds / 86400)); }
      return (ms >= 0 ? words["in"] : words.ago).replace("{a}", amount);
    };
    var tick = function () {
      var now = Date.now() + skew;
      document.querySelectorAll("[data-countdown]").forEach(function (el) {  // parts swapped in since: read anew
        var at = Date.parse(el.getAttribute("data-countdown"));
        if (!isNaN(at)) { el.textContent = phrase(at - now); }
      });
    };
    setInterval(tick, 30000);
  }
  // Live pages: one event stream per page; a notice about what this page shows swaps in its parts read anew.
  var liveUrl = document.body.getAttribute("data-live");
  if (liveUrl && window.EventSource && window.DOMParser) {
    var liveCase = document.body.getAttribute("data-live-case");
    var lostBanner = document.querySelector("[data-live-lost]");
    var fetching = false, fetchAgain = false, lost = false, source = null;
    var swapParts = function (html) {
      var fresh = new DOMParser().parseFromString(html, "text/html");
      document.querySelectorAll("[data-live-part]").forEach(function (part) {
        var next = fresh.querySelector('[data-live-part="' + part.getAttribute("data-live-part") + '"]');
        if (!next) { return; }
        // Ticked alerts stay ticked: the person was about to acknowledge them.
        var ticked = {};
        part.querySelectorAll("input[type=checkbox]:checked").forEach(function (box) { ticked[box.id] = true; });
        next.querySelectorAll("input[type=checkbox]").forEach(function (box) { if (ticked[box.id]) { box.checked = true; } });
        part.replaceWith(document.importNode(next, true));
      });
    };
    var refresh = function () {
      if (fetching) { fetchAgain = true; return; }
      fetching = true;
      fetch(window.location.href, {credentials: "same-origin", headers: {"Accept": "text/html"}}).then(function (r) {
        return r.ok ? r.text().then(swapParts) : null;
      }).catch(function () { /* the stream's error handler shows the banner; the next notice tries again */ })
        .then(function () { fetching = false; if (fetchAgain) { fetchAgain = false; refresh(); } });
    };
    var showLost = function (isLost) {
      lost = isLost;
      if (lostBanner) { lostBanner.hidden = !isLost; }
    };
    var connect = function () {
      source = new EventSource(liveUrl);
      source.onopen = function () {
        if (lost) { showLost(false); refresh(); }  // what changed while away, alerts included
      };
      source.onerror = function () {
        showLost(true);
        if (source.readyState === EventSource.CLOSED) {  // refused (not merely dropped): try again ourselves
          source.close();
          setTimeout(connect, 5000);
        }
      };
      source.onmessage = function (message) {
        var notice;
        try { notice = JSON.parse(message.data); } catch (e) { return; }
        if (notice.kind === "reload" || !liveCase || notice.case_id === liveCase) { refresh(); }
      };
    };
    connect();
    window.addEventListener("pagehide", function () { if (source) { source.close(); } });
  }
  // Passkeys (WebAuthn): only a script can ask the browser for one, so these buttons show only where it can.
  var pk = window.PublicKeyCredential;
  var canPasskey = pk && pk.parseCreationOptionsFromJSON && pk.parseRequestOptionsFromJSON;
  var status = document.getElementById("passkey-status");
  var say = function (text) { if (status) { status.textContent = text; } };
  // The page's words for each outcome, in its language (data attributes on the status line).
  var statusWords = function (name) { return (status && status.getAttribute("data-" + name)) || ""; };
  var postJSON = function (url, csrf, body) {
    return fetch(url, {method: "POST", credentials: "same-origin",
                       headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
                       body: JSON.stringify(body || {})});
  };
  // Adding a passkey: on the settings page (then reload), or while enrolling (then the form around it finishes).
  var register = document.querySelector("button[data-passkey-register]");
  if (register && canPasskey) {
    register.hidden = false;
    document.querySelectorAll("[data-passkey-enroll]").forEach(function (el) { el.hidden = false; });
    register.addEventListener("click", function () {
      var csrf = register.getAttribute("data-csrf");
      var optionsUrl = register.getAttribute("data-options") || "/settings/passkeys/options";
      var registerUrl = register.getAttribute("data-register") || "/settings/passkeys";
      postJSON(optionsUrl, csrf).then(function (r) { return r.json(); }).then(function (options) {
        return navigator.credentials.create({publicKey: pk.parseCreationOptionsFromJSON(options)});
      }).then(function (credential) {
        return postJSON(registerUrl, csrf, {credential: credential.toJSON()});
      }).then(function (r) {
        if (!r.ok) { say(statusWords("not-added-again")); }
        else if (register.form) { register.form.submit(); }
        else { window.location.reload(); }
      }).catch(function () { say(statusWords("not-added")); });
    });
  }
  var signin = document.querySelector("button[data-passkey-signin]");
  if (signin && canPasskey) {
    signin.hidden = false;
    signin.addEventListener("click", function () {
      var csrf = signin.getAttribute("data-csrf");
      postJSON("/signin/passkey/options", csrf).then(function (r) { return r.json(); }).then(function (options) {
        return navigator.credentials.get({publicKey: pk.parseRequestOptionsFromJSON(options)});
      }).then(function (credential) {
        return postJSON("/signin/passkey", csrf, {credential: credential.toJSON(), next: signin.getAttribute("data-next"),
                                                 timezone: zoneSelect ? zoneSelect.value : "UTC"});
      }).then(function (r) {
        return r.json().then(function (body) {
          if (r.ok) { window.location.assign(body.next); } else { say(r.status === 401 || !body.detail ? statusWords("not-accepted") : body.detail); }
        });
      }).catch(function () { say(statusWords("none-used")); });
    });
  }
})();
