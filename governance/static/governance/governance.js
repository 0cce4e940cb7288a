/* Governance pages: the vote box for every method, receipts, live participation, results
 * charts (bars, IRV rounds, Schulze pairwise matrix) and ballot verification. */
(function () {
  "use strict";

  var RECEIPTS_KEY = "agora.governance.receipts";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function api(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var err = new Error((data.error && data.error.message) || ("HTTP " + response.status));
          err.code = data.error && data.error.code;
          throw err;
        }
        return data;
      });
    });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  // --- receipts kept in this browser only ----------------------------------------------
  function receiptsLoad() {
    try { return JSON.parse(localStorage.getItem(RECEIPTS_KEY) || "[]"); } catch (e) { return []; }
  }
  function receiptSave(entry) {
    var list = receiptsLoad().filter(function (r) { return r.poll !== entry.poll || r.receipt !== entry.receipt; });
    list.unshift(entry);
    localStorage.setItem(RECEIPTS_KEY, JSON.stringify(list.slice(0, 200)));
  }

  // --- vote box --------------------------------------------------------------------------
  function moveItem(li, delta) {
    var list = li.parentNode;
    if (delta < 0 && li.previousElementSibling) list.insertBefore(li, li.previousElementSibling);
    if (delta > 0 && li.nextElementSibling) list.insertBefore(li.nextElementSibling, li);
    li.querySelector(delta < 0 ? ".up" : ".down").focus();
  }

  function rankedBox(poll, container) {
    container.appendChild(el("p", { class: "small muted", text: "Drag to order (top = most preferred), or use the arrow buttons. Untick options you do not want to rank." }));
    var list = el("ol", { class: "rank-list", id: "rank-list", "aria-label": "Your ranking" });
    poll.options.forEach(function (option) {
      var include = el("input", { type: "checkbox", checked: "checked", "aria-label": "Rank " + option.label });
      include.addEventListener("change", function () { li.classList.toggle("unranked", !include.checked); });
      var up = el("button", { type: "button", class: "btn btn-small up", "aria-label": "Move " + option.label + " up", text: "↑" });
      var down = el("button", { type: "button", class: "btn btn-small down", "aria-label": "Move " + option.label + " down", text: "↓" });
      var li = el("li", { "data-id": String(option.id) }, [include, el("span", { class: "label", text: option.label }), up, down]);
      up.addEventListener("click", function () { moveItem(li, -1); });
      down.addEventListener("click", function () { moveItem(li, 1); });
      list.appendChild(li);
    });
    container.appendChild(list);
    if (window.Sortable) window.Sortable.create(list, { animation: 120, filter: "button, input", preventOnFilter: false });
    return function () {
      return Array.prototype.filter.call(list.children, function (li) { return !li.classList.contains("unranked"); })
        .map(function (li) { return Number(li.dataset.id); });
    };
  }

  function choiceBox(poll, container, multiple) {
    var type = multiple ? "checkbox" : "radio";
    var options = poll.options.slice();
    if (poll.allow_none) options.push({ id: 0, label: "None of the above" });
    options.forEach(function (option) {
      var input = el("input", { type: type, name: "choice", value: String(option.id), id: "opt-" + option.id });
      container.appendChild(el("div", { class: "ballot-option" }, [input, el("label", { for: "opt-" + option.id, text: option.label })]));
    });
    if (multiple) container.appendChild(el("p", { class: "small muted", text: "Select " + poll.min + " to " + (poll.method === "approval" ? poll.options.length : poll.max) + "." }));
    return function () {
      return Array.prototype.map.call(container.querySelectorAll("input:checked"), function (i) { return Number(i.value); });
    };
  }

  function numberBox(poll, container, min, max, hint) {
    container.appendChild(el("p", { class: "small muted", text: hint }));
    var cost = el("p", { class: "small", id: "qv-cost" });
    poll.options.forEach(function (option) {
      var input = el("input", { type: "number", min: String(min), max: String(max), value: "0", id: "num-" + option.id, "data-id": String(option.id) });
      input.addEventListener("input", update);
      container.appendChild(el("div", { class: "ballot-option" }, [input, el("label", { for: "num-" + option.id, text: option.label })]));
    });
    if (poll.method === "quadratic") container.appendChild(cost);
    function values() {
      var out = {};
      container.querySelectorAll("input[type=number]").forEach(function (i) { var v = parseInt(i.value || "0", 10); if (v) out[i.dataset.id] = v; });
      return out;
    }
    function update() {
      if (poll.method !== "quadratic") return;
      var v = values(), total = 0;
      Object.keys(v).forEach(function (k) { total += v[k] * v[k]; });
      cost.textContent = "Credits used: " + total + " of " + poll.budget;
      cost.style.color = total > poll.budget ? "var(--danger)" : "";
    }
    update();
    return values;
  }

  function yesNoBox(poll, container) {
    var choices = [["yes", "Yes"], ["no", "No"], ["abstain", "Abstain"]];
    if (poll.allow_block) choices.push(["block", "Block (consent objection)"]);
    choices.forEach(function (pair) {
      var input = el("input", { type: "radio", name: "choice", value: pair[0], id: "yn-" + pair[0] });
      container.appendChild(el("div", { class: "ballot-option" }, [input, el("label", { for: "yn-" + pair[0], text: pair[1] })]));
    });
    return function () { var c = container.querySelector("input:checked"); return c ? c.value : null; };
  }

  function objectionBox(poll, container) {
    container.appendChild(el("p", { class: "small muted", text: "The motion passes at the deadline unless someone objects. To object, give your reason." }));
    var area = el("textarea", { rows: "3", "aria-label": "Reason for objecting", id: "objection" });
    container.appendChild(area);
    return function () { return area.value; };
  }

  function initVoteBox() {
    var form = document.getElementById("ballot-form");
    if (!form) return;
    var poll = JSON.parse(form.dataset.poll);
    var fields = document.getElementById("ballot-fields");
    var read;
    if (poll.method === "irv" || poll.method === "schulze") read = rankedBox(poll, fields);
    else if (poll.method === "single") read = choiceBox(poll, fields, false);
    else if (poll.method === "multiple" || poll.method === "approval") read = choiceBox(poll, fields, true);
    else if (poll.method === "score") read = numberBox(poll, fields, 0, poll.max_score, "Score each option from 0 to " + poll.max_score + ".");
    else if (poll.method === "quadratic") read = numberBox(poll, fields, -100, 100, "k votes on an option cost k² credits (negative votes oppose).");
    else if (poll.method === "lazy_consensus") read = objectionBox(poll, fields);
    else read = yesNoBox(poll, fields);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var error = document.getElementById("ballot-error");
      error.textContent = "";
      var button = document.getElementById("cast-button");
      button.disabled = true;
      api("POST", "/api/v1/polls/" + poll.id + "/ballots/", { choice: read() }).then(function (data) {
        document.getElementById("receipt-hash").textContent = data.receipt;
        document.getElementById("receipt-nonce").textContent = data.nonce;
        document.getElementById("receipt").hidden = false;
        receiptSave({ poll: poll.id, receipt: data.receipt, nonce: data.nonce, ballot: data.ballot, at: new Date().toISOString(), title: document.title });
        if (poll.visibility === "secret") form.hidden = true;
        loadResults();
      }).catch(function (err) {
        error.textContent = err.message;
      }).then(function () { button.disabled = false; });
    });
  }

  // --- live participation ----------------------------------------------------------------
  function initLive() {
    var counter = document.getElementById("participation-count");
    var form = document.getElementById("ballot-form");
    var results = document.getElementById("results");
    if (!counter || !results || !window.AgoraRealtime) return;
    var pollId = results.dataset.url.split("/")[4];
    var dot = document.getElementById("live-dot");
    var refetch = null;
    if (window.AgoraRealtime.onStatus) window.AgoraRealtime.onStatus(function (status) { dot.className = "live-dot " + status; });
    window.AgoraRealtime.subscribe("poll." + pollId, function (event) {
      if (event.type === "poll.participation") {
        // Server processes send counts independently, so an older count can arrive after
        // a newer one; participation only grows while a poll is open.
        var ballots = Math.max(event.data.ballots, Number(counter.dataset.count || 0));
        counter.textContent = ballots;
        counter.dataset.count = ballots;
        var bar = document.getElementById("participation-bar");
        if (bar && event.data.eligible) bar.style.width = Math.round(100 * ballots / event.data.eligible) + "%";
        if (results.dataset.visible === "1") {
          clearTimeout(refetch);
          refetch = setTimeout(loadResults, 2500);
        }
      } else if (event.type === "poll.tally" && results.dataset.visible === "1") {
        renderResults({ result: event.data.result });
      } else if (event.type === "poll.closed") {
        document.getElementById("poll-status").textContent = "Closed";
        results.dataset.visible = "1";
        if (form) form.hidden = true;
        loadResults();
      }
    });
  }

  // --- results -----------------------------------------------------------------------------
  var chart = null;

  function label(result, id) { return (result.labels && result.labels[String(id)]) || String(id); }

  function drawChart(config) {
    var canvas = document.getElementById("results-chart");
    if (!canvas || !window.Chart) return;
    if (chart) chart.destroy();
    chart = new window.Chart(canvas, config);
  }

  function barChart(labels, values, title) {
    drawChart({ type: "bar", data: { labels: labels, datasets: [{ label: title, data: values, backgroundColor: "#3b63d1" }] },
      options: { indexAxis: "y", animation: false, plugins: { legend: { display: false } } } });
  }

  function renderResults(payload) {
    var result = payload.result;
    var box = document.getElementById("results");
    var extra = document.getElementById("results-extra");
    if (!result) return;
    box.innerHTML = "";
    extra.innerHTML = "";
    var summary = el("p");
    if (result.method === "yes_no") {
      summary.textContent = (result.passed ? "Passes" : "Does not pass") + " (" + result.reason + ")";
      barChart(["yes", "no", "abstain", "block"], ["yes", "no", "abstain", "block"].map(function (k) { return Number(result.counts[k]); }), "votes");
    } else if (result.method === "lazy_consensus") {
      summary.textContent = result.passed ? "No objections: passes at the deadline." : result.objection_count + " objection(s).";
      result.objections.forEach(function (o) { extra.appendChild(el("blockquote", { text: o })); });
    } else if (result.method === "irv") {
      summary.textContent = "Winner: " + (result.winner === null ? "none" : label(result, result.winner));
      var ids = Object.keys(result.labels);
      drawChart({ type: "bar", data: { labels: result.rounds.map(function (r, i) { return "Round " + (i + 1); }),
        datasets: ids.map(function (id, n) { return { label: label(result, id), data: result.rounds.map(function (r) { return Number(r.counts[id] || 0); }),
          backgroundColor: "hsl(" + (n * 67 % 360) + " 60% 55%)" }; }) },
        options: { animation: false, scales: { x: { stacked: true }, y: { stacked: true } } } });
      var list = el("ol", { class: "small" });
      result.rounds.forEach(function (r) { if (r.eliminated !== null) list.appendChild(el("li", { text: "eliminated " + label(result, r.eliminated) + ", exhausted " + r.exhausted })); });
      extra.appendChild(list);
    } else if (result.method === "schulze") {
      summary.textContent = "Winner: " + (result.winner === null ? "none" : label(result, result.winner)) + " · ranking: " + result.ranking.map(function (id) { return label(result, id); }).join(" > ");
      var table = el("table", { class: "table matrix", id: "pairwise-matrix" });
      var head = el("tr", {}, [el("th", { text: "d[row, col]" })]);
      var order = result.ranking;
      var index = {};
      result.options.forEach(function (id, i) { index[id] = i; });
      order.forEach(function (id) { head.appendChild(el("th", { text: label(result, id) })); });
      table.appendChild(head);
      order.forEach(function (row) {
        var tr = el("tr", {}, [el("th", { text: label(result, row) })]);
        order.forEach(function (col) {
          if (row === col) { tr.appendChild(el("td", { text: "—" })); return; }
          var mine = Number(result.pairwise[index[row]][index[col]]), theirs = Number(result.pairwise[index[col]][index[row]]);
          tr.appendChild(el("td", { class: mine > theirs ? "win" : "lose", text: String(mine) }));
        });
        table.appendChild(tr);
      });
      extra.appendChild(el("h3", { text: "Pairwise preferences" }));
      extra.appendChild(el("div", { class: "table-wrap" }, [table]));
      barChart(order.map(function (id) { return label(result, id); }), order.map(function (id) {
        var i = index[id]; return result.pairwise[i].filter(function (v, j) { return j !== i && Number(v) > Number(result.pairwise[j][i]); }).length;
      }), "pairwise wins");
    } else {
      summary.textContent = "Winner: " + (result.winner === null ? "none" : label(result, result.winner));
      var keys = result.ranking || Object.keys(result.totals);
      barChart(keys.map(function (id) { return label(result, id); }), keys.map(function (id) { return Number(result.totals[String(id)]); }), "total");
    }
    box.appendChild(summary);
    box.appendChild(el("p", { class: "small muted", text: result.ballots + " ballot(s) · quorum " + (result.quorum_met === false ? "not met" : "met") }));
  }

  function loadResults() {
    var box = document.getElementById("results");
    if (!box || box.dataset.visible !== "1") return;
    api("GET", box.dataset.url).then(renderResults).catch(function () {});
  }

  // --- receipts page and verification ------------------------------------------------------
  function initReceipts() {
    var table = document.getElementById("receipts-table");
    if (!table) return;
    var list = receiptsLoad();
    document.getElementById("no-receipts").hidden = list.length > 0;
    list.forEach(function (r) {
      var link = el("a", { href: "/governance/verify/?poll=" + r.poll + "&receipt=" + r.receipt, text: "verify" });
      link.addEventListener("click", function () { sessionStorage.setItem("agora.verify.nonce", r.nonce); });
      table.tBodies[0].appendChild(el("tr", {}, [
        el("td", {}, [el("a", { href: "/governance/polls/" + r.poll + "/", text: "Poll " + r.poll })]),
        el("td", { text: r.at.slice(0, 16).replace("T", " ") }),
        el("td", {}, [el("code", { text: r.receipt.slice(0, 16) + "…" })]),
        el("td", {}, [link]),
      ]));
    });
  }

  function initVerify() {
    var form = document.getElementById("verify-form");
    if (!form) return;
    var nonce = sessionStorage.getItem("agora.verify.nonce");
    if (nonce) { document.getElementById("v-nonce").value = nonce; sessionStorage.removeItem("agora.verify.nonce"); }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var out = document.getElementById("verify-result");
      var pollId = document.getElementById("v-poll").value.trim();
      api("POST", "/api/v1/polls/" + encodeURIComponent(pollId) + "/verify/", {
        receipt: document.getElementById("v-receipt").value.trim(),
        nonce: document.getElementById("v-nonce").value.trim(),
      }).then(function (data) {
        var text = data.included ? "✔ This receipt is among the counted ballots." : "✘ No counted ballot has this receipt.";
        if (data.matches === true) text += " The nonce matches: the counted ballot is exactly the one you cast" + (data.choice !== undefined ? " (" + JSON.stringify(data.choice) + ")." : ".");
        if (data.matches === false) text += " The nonce does not match this receipt.";
        out.className = "flash " + (data.included && data.matches !== false ? "flash-success" : "flash-error");
        out.textContent = text;
      }).catch(function (err) { out.className = "flash flash-error"; out.textContent = err.message; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    initVoteBox();
    initLive();
    loadResults();
    initReceipts();
    initVerify();
  });
})();
