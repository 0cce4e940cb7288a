/* The run page: replays the run's events from the start, then follows them live. */
(function () {
  "use strict";
  var page = document.getElementById("run-page");
  if (!page || !window.AgoraRealtime) return;
  var timeline = document.getElementById("run-timeline");
  var stateBadge = document.getElementById("run-state");
  var reasonEl = document.getElementById("run-reason");
  var confirmBox = document.getElementById("run-confirm");
  var ENDED = ["succeeded", "failed", "cancelled", "timed_out"];
  var calls = {};
  var textItems = {};
  var tokens = 0;
  var lastSeq = 0;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function item(kind, seq) {
    var li = el("li", "run-event run-event-" + kind);
    li.dataset.seq = seq;
    li.dataset.type = kind;
    timeline.appendChild(li);
    return li;
  }

  function setText(id, value) {
    var node = document.getElementById(id);
    if (node) node.textContent = value;
  }

  function showState(state, reason) {
    stateBadge.textContent = state;
    stateBadge.className = "badge run-state-" + state;
    reasonEl.textContent = reason || "";
    var cancel = document.getElementById("run-cancel-form");
    if (cancel) cancel.hidden = ENDED.indexOf(state) >= 0;
    var resume = document.getElementById("run-resume-form");
    if (resume) resume.hidden = state !== "interrupted";
    if (confirmBox && state !== "awaiting_confirmation") confirmBox.hidden = true;
  }

  function loadArtifacts() {
    fetch(page.dataset.api, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (run) {
        if (!run) return;
        var box = document.getElementById("run-artifacts");
        box.textContent = "";
        if (!run.artifacts.length) box.appendChild(el("p", "muted", "None."));
        run.artifacts.forEach(function (a) {
          var d = el("details", "card run-artifact");
          d.dataset.kind = a.kind;
          d.open = true;
          d.appendChild(el("summary", "", a.name + " (" + a.kind + ")"));
          d.appendChild(el("pre", "run-term", a.content));
          box.appendChild(d);
        });
      });
  }

  function onEvent(event) {
    if (event.seq <= lastSeq) return;
    lastSeq = event.seq;
    var d = event.data || {};
    if (typeof d.step === "number") setText("run-step", d.step);
    var li;
    switch (event.type) {
      case "state":
        showState(d.state, d.reason);
        li = item("state", event.seq);
        li.textContent = "● " + d.state + (d.reason ? " — " + d.reason : "");
        break;
      case "tokens":
        li = textItems[d.step];
        if (!li) {
          li = textItems[d.step] = item("tokens", event.seq);
          li.appendChild(el("span", "run-say"));
        }
        li.firstChild.textContent += d.text;
        break;
      case "usage":
        tokens += d.total_tokens || 0;
        setText("run-tokens", tokens);
        break;
      case "tool_call":
        li = item("tool_call", event.seq);
        var details = el("details", "run-call");
        var summary = el("summary", "", "▶ " + d.name + (d.arguments && d.arguments.command ? ": " + d.arguments.command : d.arguments && d.arguments.path ? ": " + d.arguments.path : ""));
        details.appendChild(summary);
        details.appendChild(el("pre", "run-args", JSON.stringify(d.arguments, null, 2)));
        li.appendChild(details);
        calls[d.call_id] = details;
        break;
      case "tool_result":
        var target = calls[d.call_id];
        var out = el("pre", "run-term" + (d.ok ? "" : " run-term-error"), d.output);
        if (typeof d.exit_code === "number") out.dataset.exit = d.exit_code;
        if (target) {
          target.appendChild(out);
          target.open = true;
          target.dataset.done = d.ok ? "ok" : "error";
        } else {
          item("tool_result", event.seq).appendChild(out);
        }
        setText("run-tools", document.querySelectorAll("details.run-call[data-done]").length);
        break;
      case "refused":
        li = item("refused", event.seq);
        li.textContent = "⨯ refused " + d.name + ": " + d.reason;
        break;
      case "confirmation_required":
        li = item("confirmation_required", event.seq);
        li.textContent = "? waiting for approval: " + (d.arguments && d.arguments.command || d.name);
        if (confirmBox) {
          confirmBox.hidden = false;
          setText("run-confirm-command", d.arguments && d.arguments.command || JSON.stringify(d.arguments));
          setText("run-confirm-reason", d.reason);
        }
        break;
      case "confirmation":
        li = item("confirmation", event.seq);
        li.textContent = (d.approved ? "✓ approved" : "✗ denied") + (d.by ? " by " + d.by : "");
        if (confirmBox) confirmBox.hidden = true;
        break;
      case "run_error":
        li = item("error", event.seq);
        li.textContent = "! " + d.kind + ": " + d.message;
        break;
      case "notice":
        li = item("notice", event.seq);
        li.textContent = "ℹ " + d.message;
        break;
      case "final":
        li = item("final", event.seq);
        li.appendChild(el("strong", "", "Final answer"));
        li.appendChild(el("pre", "run-final", d.answer));
        break;
      case "artifacts":
        loadArtifacts();
        break;
    }
  }

  window.AgoraRealtime.subscribe(page.dataset.topic, onEvent, { afterSeq: 0 });
})();
