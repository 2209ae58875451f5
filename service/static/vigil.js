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
})();
