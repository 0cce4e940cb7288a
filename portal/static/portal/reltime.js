/*
 * Human times: <time datetime="ISO" data-relative>3 min ago</time>, kept current.
 *
 *   AgoraRelTime.format("2026-11-21T10:00:00+00:00", nowMs)  -> "3 min ago" / "in 2 h"
 *   AgoraRelTime.element("2026-11-21T10:00:00+00:00")        -> a <time> node
 *   AgoraRelTime.refresh(root)                               -> re-render under root
 *
 * The exact ISO time stays in the element's datetime and title (hover shows it). Every
 * element with data-relative on the page is re-rendered every 15 seconds.
 */
(function () {
  "use strict";

  var REFRESH_MS = 15000;
  var STEPS = [
    [60, 1, "s"],
    [3600, 60, "min"],
    [86400, 3600, "h"],
    [86400 * 30, 86400, "d"],
    [86400 * 365, 86400 * 30, "mo"],
    [Infinity, 86400 * 365, "y"],
  ];

  function format(iso, nowMs) {
    var at = Date.parse(iso);
    if (isNaN(at)) return iso === null || iso === undefined ? "never" : String(iso);
    var seconds = Math.round(((nowMs === undefined ? Date.now() : nowMs) - at) / 1000);
    var future = seconds < 0;
    var abs = Math.abs(seconds);
    if (abs < 10) return "just now";
    for (var i = 0; i < STEPS.length; i++) {
      if (abs < STEPS[i][0]) {
        var n = Math.floor(abs / STEPS[i][1]);
        var text = n + " " + STEPS[i][2];
        return future ? "in " + text : text + " ago";
      }
    }
    return iso;
  }

  function element(iso, doc) {
    var node = (doc || document).createElement("time");
    node.setAttribute("datetime", iso);
    node.setAttribute("title", iso);
    node.setAttribute("data-relative", "");
    node.textContent = format(iso);
    return node;
  }

  function refresh(root, nowMs) {
    var nodes = (root || document).querySelectorAll("time[data-relative]");
    for (var i = 0; i < nodes.length; i++) {
      nodes[i].textContent = format(nodes[i].getAttribute("datetime"), nowMs);
    }
  }

  window.AgoraRelTime = { format: format, element: element, refresh: refresh };
  if (typeof document !== "undefined" && document.querySelectorAll) {
    refresh(document);
    window.setInterval(function () { refresh(document); }, REFRESH_MS);
  }
})();
