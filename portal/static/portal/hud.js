/* The HUD: renders each widget, follows the public "hud" topic, re-fetches private widgets. */
(function () {
  "use strict";
  var initial = JSON.parse(document.getElementById("hud-initial").textContent);
  var charts = {};

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // A human time ("3 min ago") with the ISO time in datetime/title; "never" for null.
  function when(iso) {
    if (!iso) return el("span", "muted", "never");
    return window.AgoraRelTime.element(iso);
  }

  function kv(pairs) {
    var box = el("div", "hud-kv");
    pairs.forEach(function (p) {
      box.appendChild(el("span", "muted", p[0]));
      var value = el("span", "hud-value");
      (Array.isArray(p[1]) ? p[1] : [p[1]]).forEach(function (part) {
        value.appendChild(part instanceof Node ? part : document.createTextNode(String(part)));
      });
      box.appendChild(value);
    });
    return box;
  }

  function pct(x) { return x === null || x === undefined ? "—" : Math.round(x * 100) + "%"; }

  function chart(section, type, labels, datasets) {
    var canvas = section.querySelector("canvas");
    if (!window.Chart) return;
    canvas.hidden = false;
    var name = section.dataset.widget;
    if (charts[name]) {
      charts[name].data.labels = labels;
      charts[name].data.datasets = datasets;
      charts[name].update("none");
      return;
    }
    charts[name] = new window.Chart(canvas, {
      type: type,
      data: { labels: labels, datasets: datasets },
      options: { animation: false, responsive: true, plugins: { legend: { display: datasets.length > 1 } } },
    });
  }

  var renderers = {
    agents: function (d, body, section) {
      var active = ["queued", "starting", "running", "awaiting_confirmation"];
      var running = active.reduce(function (n, s) { return n + (d.by_state[s] || 0); }, 0);
      body.appendChild(el("div", "hud-big", running));
      body.lastChild.id = "hud-agents-active";
      body.appendChild(el("p", "muted", "active runs"));
      var states = Object.keys(d.by_state);
      body.appendChild(kv(states.filter(function (s) { return d.by_state[s]; }).map(function (s) {
        return [s, d.by_state[s]];
      })));
      var table = el("table", "table hud-rates");
      var head = el("tr");
      ["profile", "today", "7 d", "30 d"].forEach(function (h) { head.appendChild(el("th", "", h)); });
      table.appendChild(head);
      var profiles = {};
      Object.keys(d.rates).forEach(function (w) { Object.keys(d.rates[w]).forEach(function (p) { profiles[p] = 1; }); });
      Object.keys(profiles).sort().forEach(function (p) {
        var row = el("tr");
        row.appendChild(el("td", "", p));
        ["today", "7d", "30d"].forEach(function (w) {
          var r = d.rates[w][p];
          row.appendChild(el("td", "", r ? pct(r.success_rate) + " of " + r.ended : "—"));
        });
        table.appendChild(row);
      });
      body.appendChild(table);
      chart(section, "bar", states, [{ label: "runs", data: states.map(function (s) { return d.by_state[s]; }) }]);
    },
    sandboxes: function (d, body, section) {
      body.appendChild(el("div", "hud-big", d.running));
      body.appendChild(el("p", "muted", "running now · launches per hour (24 h)"));
      chart(section, "bar", d.launches_per_hour.map(function (h) { return h.hour; }),
        [{ label: "launches", data: d.launches_per_hour.map(function (h) { return h.launches; }) }]);
    },
    polls: function (d, body) {
      if (!d.open.length) { body.appendChild(el("p", "muted", "No open polls.")); return; }
      d.open.forEach(function (p) {
        var line = el("div", "");
        line.appendChild(el("a", "", p.title));
        line.firstChild.href = "/governance/polls/" + p.id + "/";
        var share = p.electorate ? " (" + pct(p.voted / p.electorate) + ")" : "";
        line.appendChild(el("span", "muted", " · " + p.voted + " of " + p.electorate + " voted" + share));
        if (p.closes_at) {
          line.appendChild(el("span", "muted", " · closes "));
          line.appendChild(when(p.closes_at));
        }
        body.appendChild(line);
      });
    },
    contributions: function (d, body, section) {
      body.appendChild(kv(["today", "7d", "30d"].map(function (w) {
        return [w, d[w].approved + " approved · " + d[w].submitted + " submitted"];
      })));
      chart(section, "bar", ["today", "7 d", "30 d"], [
        { label: "approved", data: [d.today.approved, d["7d"].approved, d["30d"].approved] },
        { label: "submitted", data: [d.today.submitted, d["7d"].submitted, d["30d"].submitted] },
      ]);
    },
    content: function (d, body) {
      body.appendChild(kv([
        ["items mirrored", d.items],
        ["last sync", when(d.last_sync)],
        ["last drift repair", [when(d.last_reconcile), d.last_reconcile_status ? " (" + d.last_reconcile_status + ")" : ""]],
        ["failed syncs (24 h)", d.failed_syncs_24h],
      ]));
    },
    ledger: function (d, body) {
      body.appendChild(el("div", d.ok ? "hud-ok" : "hud-bad", d.status));
      body.appendChild(kv([["last check", when(d.checked_at)], ["transactions", d.transactions]]));
      if (d.failing.length) body.appendChild(el("p", "hud-bad", "failing: " + d.failing.join(", ")));
    },
    jobs: function (d, body, section) {
      body.appendChild(kv([["queued", d.queued], ["running", d.running], ["failed (24 h)", d.failed_24h]]));
      chart(section, "bar", ["queued", "running", "failed 24 h"], [{ label: "jobs", data: [d.queued, d.running, d.failed_24h] }]);
    },
    api: function (d, body) {
      body.appendChild(kv([
        ["p95 latency", d.p95_ms === null ? "—" : d.p95_ms + " ms"],
        ["error rate (5xx)", pct(d.error_rate)],
        ["requests", d.requests],
      ]));
      body.appendChild(el("p", "muted", "measured by " + d.scope));
    },
  };

  function render(payload) {
    var section = document.getElementById("hud-" + payload.widget);
    if (!section) return;
    var body = section.querySelector(".hud-body");
    body.textContent = "";
    section.dataset.updated = payload.at;
    if (!payload.available) {
      body.appendChild(el("p", "hud-unavailable", "unavailable"));
    } else {
      renderers[payload.widget](payload.data, body, section);
    }
    var at = section.querySelector(".hud-at");
    at.textContent = "updated ";
    at.appendChild(when(payload.at));
  }

  function refetch(name) {
    var section = document.getElementById("hud-" + name);
    if (!section) return;
    fetch(section.dataset.url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (payload) { if (payload) render(payload); });
  }

  Object.keys(initial).forEach(function (name) { render(initial[name]); });
  if (window.AgoraRealtime) {
    window.AgoraRealtime.subscribe("hud", function (event) {
      if (event.type !== "widget") return;
      var d = event.data;
      if (d.data !== undefined && d.available !== undefined) render(d);
      else if (d.changed) refetch(d.widget);
    });
  }
})();
