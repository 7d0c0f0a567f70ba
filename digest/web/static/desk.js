// The editor's desk: load the check findings, and reload when the issue or a template changes on disk.
"use strict";
(function () {
  const date = document.body.dataset.date || "";
  const findings = document.getElementById("findings");
  if (findings && findings.dataset.src) {
    fetch(findings.dataset.src, { credentials: "same-origin" })
      .then((response) => response.text())
      .then((html) => { findings.innerHTML = html; findings.dataset.loaded = "yes"; })
      .catch((error) => { findings.textContent = "Could not run the check: " + error; });
  }
  const source = new EventSource("/events?date=" + encodeURIComponent(date));
  // A form being submitted navigates on its own; a reload now would cancel it.
  document.addEventListener("submit", () => { source.close(); });
  source.addEventListener("open", () => { document.body.dataset.live = "on"; });
  source.addEventListener("error", () => { document.body.dataset.live = "off"; });
  source.addEventListener("change", (event) => {
    if (!date || event.data === date || event.data === "*") {
      source.close();
      window.location.replace(window.location.pathname);
    }
  });
})();
