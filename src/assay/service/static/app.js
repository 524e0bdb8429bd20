// Live progress: poll the scan's JSON until it is finished, then reload to show results.
(function () {
  "use strict";
  function badge(status) {
    var span = document.createElement("span");
    span.className = "status status-" + status;
    span.textContent = status;
    return span;
  }
  function poll(id, el, reloadWhenDone) {
    fetch("/api/v1/scans/" + encodeURIComponent(id), { headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (scan) {
        if (!scan) { setTimeout(function () { poll(id, el, reloadWhenDone); }, 3000); return; }
        var st = el.querySelector(".js-status");
        if (st) { st.replaceChildren(badge(scan.status)); }
        var stage = el.querySelector(".js-stage");
        if (stage) { stage.textContent = scan.stage || ""; }
        if (scan.status === "done" || scan.status === "failed") {
          if (reloadWhenDone) { window.location.reload(); }
          return;
        }
        setTimeout(function () { poll(id, el, reloadWhenDone); }, 1000);
      })
      .catch(function () { setTimeout(function () { poll(id, el, reloadWhenDone); }, 3000); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var main = document.getElementById("scan-status");
    if (main && (main.dataset.status === "queued" || main.dataset.status === "running")) {
      poll(main.dataset.scanId, main, true);
    }
    document.querySelectorAll("[data-poll-scan]").forEach(function (row) {
      poll(row.dataset.pollScan, row, false);
    });
  });
})();
