/* Live notes: save with the version you started from; a stale save comes back 409 with
 * the current text, shown as a conflict. Others' saves and "is editing" arrive on
 * meeting.<id>. */
(function () {
  "use strict";
  var root = document.getElementById("meeting");
  if (!root) return;
  var meetingId = root.dataset.meeting;
  var me = root.dataset.user;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var live = document.getElementById("live-status");
  var lastEditingSent = {};
  var editingTimers = {};

  function api(method, path, body) {
    return fetch("/api/v1/meetings/" + meetingId + path, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: body ? JSON.stringify(body) : undefined
    });
  }

  function area(itemId) { return document.getElementById("notes-" + itemId); }
  function stateLine(itemId, text) { document.getElementById("note-state-" + itemId).textContent = text; }

  function showConflict(itemId, current, message) {
    var box = document.getElementById("conflict-" + itemId);
    box.hidden = false;
    box.querySelector(".conflict-msg").textContent = message;
    box.querySelector(".conflict-theirs").textContent = current.text;
    box.dataset.version = current.version;
    box.dataset.text = current.text;
  }

  function save(itemId, force) {
    var textarea = area(itemId);
    var box = document.getElementById("conflict-" + itemId);
    var version = parseInt(force ? box.dataset.version : textarea.dataset.version, 10);
    stateLine(itemId, "saving…");
    return api("PUT", "/agenda-items/" + itemId + "/notes/", { text: textarea.value, version: version })
      .then(function (r) {
        return r.json().then(function (data) {
          if (r.status === 409 && data.current) {
            stateLine(itemId, "not saved: conflict");
            showConflict(itemId, data.current, data.error.message);
            return;
          }
          if (!r.ok) { stateLine(itemId, (data.error && data.error.message) || "not saved"); return; }
          textarea.dataset.version = data.notes_version;
          textarea.dataset.dirty = "";
          box.hidden = true;
          stateLine(itemId, "v" + data.notes_version + " · saved");
        });
      })
      .catch(function () { stateLine(itemId, "network error: not saved"); });
  }

  document.querySelectorAll(".save-note").forEach(function (button) {
    button.addEventListener("click", function () { save(button.dataset.item, false); });
  });
  document.querySelectorAll(".conflict").forEach(function (box) {
    var itemId = box.id.replace("conflict-", "");
    box.querySelector(".use-theirs").addEventListener("click", function () {
      var textarea = area(itemId);
      textarea.value = box.dataset.text;
      textarea.dataset.version = box.dataset.version;
      textarea.dataset.dirty = "";
      box.hidden = true;
      stateLine(itemId, "v" + box.dataset.version);
    });
    box.querySelector(".keep-mine").addEventListener("click", function () { save(itemId, true); });
  });
  document.querySelectorAll("textarea.notes").forEach(function (textarea) {
    textarea.addEventListener("input", function () {
      var itemId = textarea.id.replace("notes-", "");
      textarea.dataset.dirty = "1";
      var now = Date.now();
      if (!lastEditingSent[itemId] || now - lastEditingSent[itemId] > 2000) {
        lastEditingSent[itemId] = now;
        api("POST", "/agenda-items/" + itemId + "/editing/");
      }
    });
  });

  function onEvent(event) {
    var data = event.data || {};
    if (event.type === "note.saved") {
      var textarea = area(data.item);
      if (!textarea) return;
      if (textarea.dataset.dirty) {
        stateLine(data.item, data.by + " saved v" + data.version + " — yours is unsaved");
      } else if (parseInt(textarea.dataset.version, 10) < data.version) {
        textarea.value = data.text;
        textarea.dataset.version = data.version;
        stateLine(data.item, "v" + data.version + " · " + data.by);
      }
    } else if (event.type === "note.editing") {
      if (data.user === me) return;
      var label = document.getElementById("editing-" + data.item);
      if (!label) return;
      label.textContent = data.name + " is editing…";
      clearTimeout(editingTimers[data.item]);
      editingTimers[data.item] = setTimeout(function () { label.textContent = ""; }, 4000);
    } else if (event.type === "attendance.changed") {
      var present = document.getElementById("quorum-present");
      if (present) present.textContent = data.present;
      var verdict = document.getElementById("quorum-verdict");
      if (verdict && data.quorum_met !== null) verdict.textContent = data.quorum_met ? "met" : "not met";
    } else if (event.type === "decision.added" || event.type === "decision.result") {
      refreshPanel("decision-list", event.type === "decision.added"
        ? "A decision was recorded." : "A poll result was added to a decision.");
    } else if (event.type === "action.added" || event.type === "action.carried") {
      refreshPanel("action-list", "An action item was added.");
    } else if (event.type === "minutes.status") {
      live.textContent = "The minutes changed status — reload to see the change.";
    }
  }

  // Decisions and action items are re-rendered by the server for this viewer and swapped
  // in place; several events close together cause one fetch per list.
  var panelTimers = {};
  function refreshPanel(listId, message) {
    clearTimeout(panelTimers[listId]);
    panelTimers[listId] = setTimeout(function () {
      var list = document.getElementById(listId);
      if (!list) return;
      fetch(list.dataset.panel, { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
        .then(function (html) {
          var current = document.getElementById(listId);
          if (!current) return;
          current.outerHTML = html;
          live.textContent = message;
        })
        .catch(function () { live.textContent = "The meeting was updated — reload to see the change."; });
    }, 100);
  }

  if (window.AgoraRealtime) window.AgoraRealtime.subscribe("meeting." + meetingId, onEvent);
})();
