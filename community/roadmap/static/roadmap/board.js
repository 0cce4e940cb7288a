/* Roadmap board: drag and drop (Sortable) and move selects both PATCH the task through
 * the API; other viewers' changes arrive on board.<id> and refresh the columns. */
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board) return;
  var statusLine = document.getElementById("board-status");
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var refreshTimer = null;

  function say(text, isError) {
    statusLine.textContent = text;
    statusLine.className = isError ? "wip-warning" : "muted";
  }

  function refresh() {
    var url = new URL(window.location.href);
    url.searchParams.set("partial", "1");
    fetch(url.toString(), { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        board.innerHTML = html;
        if (window.htmx) window.htmx.process(board);  // the "show more" buttons
        wire();
      });
  }

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 150);
  }

  function move(code, status, position) {
    var body = { status: status };
    if (position !== null && position !== undefined) body.position = position;
    return fetch("/api/v1/tasks/" + encodeURIComponent(code) + "/", {
      method: "PATCH",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) { say((data.error && data.error.message) || "move refused", true); }
        else if (data.wip_warning) { say(data.wip_warning, true); }
        else { say(code + " moved to " + status, false); }
        refresh();
      });
    }).catch(function () { say("network error: the move was not saved", true); refresh(); });
  }

  function wire() {
    if (window.Sortable) {
      board.querySelectorAll(".kanban-list").forEach(function (list) {
        window.Sortable.create(list, {
          group: "board",
          animation: 120,
          filter: "button, a",
          preventOnFilter: false,
          onEnd: function (evt) {
            if (evt.from === evt.to && evt.oldIndex === evt.newIndex) return;
            move(evt.item.dataset.code, evt.to.dataset.status, evt.newIndex);
          }
        });
      });
    }
    var columns = Array.prototype.map.call(
      board.querySelectorAll(".kanban-list"), function (l) { return l.dataset.status; });
    // One form per column; each card's buttons post through it with their formaction.
    board.querySelectorAll(".move-form").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        var card = e.submitter && e.submitter.closest(".task-card");
        if (!card) return;
        e.preventDefault();
        var from = columns.indexOf(card.closest(".kanban-list").dataset.status);
        var step = e.submitter && e.submitter.value === "left" ? -1 : 1;
        var to = Math.max(0, Math.min(columns.length - 1, from + step));
        if (to === from) return;
        move(card.dataset.code, columns[to], null);
      });
    });
  }

  wire();
  if (window.AgoraRealtime) {
    window.AgoraRealtime.subscribe(board.dataset.topic, function (event) {
      if (event.data && event.data.wip_warning) say(event.data.wip_warning, true);
      scheduleRefresh();
    });
  }
})();
