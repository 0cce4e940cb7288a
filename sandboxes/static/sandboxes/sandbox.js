/*
 * The sandbox page: live state and spawn progress from the realtime hub (topic
 * sandbox.<id>), and the terminal: xterm.js over /ws/terminal/<id>/ (binary frames are
 * output, JSON text frames are control messages). Reconnects while the sandbox runs.
 */
(function () {
  "use strict";
  var root = document.getElementById("sandbox");
  if (!root) return;
  var id = root.dataset.id;
  var state = root.dataset.state;
  var isOwner = root.dataset.owner === "1";
  var el = function (name) { return document.getElementById(name); };
  var term = null, fit = null, socket = null, attempt = 0, retry = null;

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function setState(next, reason) {
    state = next;
    root.dataset.state = next;
    var badge = el("sbx-state");
    badge.textContent = next;
    badge.className = "badge sbx-state-" + next;
    if (reason !== undefined) el("sbx-reason").textContent = reason;
    el("sbx-progress-wrap").hidden = !(next === "requested" || next === "starting");
    if (next === "running") connectTerminal();
    if (next !== "running" && next !== "starting" && next !== "requested") {
      el("sbx-idle").hidden = true;
    }
  }

  function setProgress(step, percent) {
    el("sbx-progress").style.width = percent + "%";
    el("sbx-progress").parentNode.setAttribute("aria-valuenow", percent);
    el("sbx-step").textContent = step;
  }

  function status(text) { el("sbx-term-status").textContent = text; }

  function ensureTerminal() {
    if (term) return;
    term = new window.Terminal({ cursorBlink: true, fontSize: 14, scrollback: 5000,
      disableStdin: !isOwner, convertEol: false });
    fit = new window.FitAddon.FitAddon();
    term.loadAddon(fit);
    term.open(el("terminal"));
    fit.fit();
    term.onData(function (data) {
      if (socket && socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify({ type: "input", data: data }));
      }
    });
    term.onResize(function (size) { sendResize(size.rows, size.cols); });
    window.addEventListener("resize", function () { fit.fit(); });
  }

  function sendResize(rows, cols) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "resize", rows: rows, cols: cols }));
    }
  }

  function connectTerminal() {
    ensureTerminal();
    if (socket && socket.readyState <= WebSocket.OPEN) return;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + "/ws/terminal/" + id + "/");
    socket.binaryType = "arraybuffer";
    var fresh = true;
    socket.onopen = function () {
      attempt = 0;
      status(isOwner ? "Connected." : "Connected (read-only).");
      sendResize(term.rows, term.cols);
    };
    socket.onmessage = function (event) {
      if (typeof event.data === "string") {
        var msg = JSON.parse(event.data);
        if (msg.type === "closed") status("The terminal has ended (" + msg.state + ").");
        if (msg.type === "error") status(msg.message);
        return;
      }
      if (fresh) { term.reset(); fresh = false; }  // the scrollback replay comes first
      term.write(new Uint8Array(event.data));
    };
    socket.onclose = function () {
      if (state === "running") {
        attempt += 1;
        var delay = Math.min(10000, 300 * Math.pow(2, attempt));
        status("Disconnected; reconnecting…");
        clearTimeout(retry);
        retry = setTimeout(connectTerminal, delay);
      }
    };
    term.focus();
  }

  function keepAlive() {
    fetch("/api/v1/sandboxes/" + id + "/keepalive/", {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "Content-Type": "application/json" }, body: "{}",
    }).then(function () { el("sbx-idle").hidden = true; });
  }
  el("sbx-keepalive-now").addEventListener("click", keepAlive);

  function onEvent(event) {
    var data = event.data || {};
    if (event.type === "state") setState(data.state, data.reason);
    else if (event.type === "progress") setProgress(data.step, data.percent);
    else if (event.type === "idle_warning") el("sbx-idle").hidden = !isOwner;
    else if (event.type === "disk") el("sbx-disk").hidden = !event.data.full;
    else if (event.type === "keepalive") el("sbx-idle").hidden = true;
  }

  function start() {
    if (window.AgoraRealtime) window.AgoraRealtime.subscribe("sandbox." + id, onEvent);
    if (state === "running") connectTerminal();
    else if (state !== "requested" && state !== "starting") {
      ensureTerminal();
      connectTerminal();  // replays the kept log, then closes
    } else {
      // Fallback while the hub connects: poll the API until the sandbox runs.
      var poll = setInterval(function () {
        if (state !== "requested" && state !== "starting") { clearInterval(poll); return; }
        fetch("/api/v1/sandboxes/" + id + "/", { credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (s) {
            setProgress(s.progress_step, s.progress_pct);
            if (s.state !== state) setState(s.state, s.reason);
          });
      }, 1000);
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
