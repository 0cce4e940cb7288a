// Governance page helpers: show refused htmx actions in place, FCP countdowns, and the
// poll form's method-specific fields.
(function () {
  "use strict";

  // htmx does not swap 4xx answers by default; ours carry the error to show.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status >= 400 && xhr.status < 500 && xhr.getResponseHeader("X-Agora-Partial")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  function remaining(ms) {
    if (ms <= 0) return "ending now";
    var minutes = Math.floor(ms / 60000);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    if (days) return days + " d " + hours + " h left";
    return hours + " h " + (minutes % 60) + " min left";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      el.textContent = remaining(Date.parse(el.dataset.countdown) - now);
    });
    document.querySelectorAll("[data-fcp-end]").forEach(function (bar) {
      var start = Date.parse(bar.dataset.fcpStart), end = Date.parse(bar.dataset.fcpEnd);
      var done = Math.min(1, Math.max(0, (now - start) / (end - start)));
      bar.style.width = (done * 100).toFixed(1) + "%";
    });
  }

  // Only the fields that matter for the chosen method are shown.
  var METHOD_FIELDS = {
    options: ["single", "multiple", "approval", "irv", "schulze", "score", "quadratic"],
    min_selections: ["multiple", "approval"],
    max_selections: ["multiple", "approval"],
    allow_none: ["single", "multiple"],
    allow_block: ["yes_no"],
    max_score: ["score"],
    budget: ["quadratic"],
  };

  function syncMethod() {
    var select = document.getElementById("id_method");
    if (!select) return;
    Object.keys(METHOD_FIELDS).forEach(function (name) {
      var row = document.getElementById("row-" + name);
      if (row) row.hidden = METHOD_FIELDS[name].indexOf(select.value) < 0 && !row.classList.contains("has-error");
    });
    var fraction = document.getElementById("row-majority_fraction");
    var kind = document.getElementById("id_majority_kind");
    if (fraction && kind) fraction.hidden = kind.value !== "custom" && !fraction.classList.contains("has-error");
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 30000);
    syncMethod();
    document.addEventListener("change", function (event) {
      if (event.target.id === "id_method" || event.target.id === "id_majority_kind") syncMethod();
    });
  });
  document.addEventListener("htmx:afterSwap", tick);
})();
