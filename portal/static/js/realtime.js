/*
 * Agora realtime client: one shared websocket to /ws/ for every topic on the page.
 *
 *   const off = AgoraRealtime.subscribe("poll.12", (event) => { ... });
 *   AgoraRealtime.subscribe("poll.12", fn, { afterSeq: 41, onError: (err) => {...} });
 *   AgoraRealtime.onStatus((status) => { ... });   // "connecting" | "live" | "reconnecting" | "closed"
 *
 * Events are {topic, seq, type, data, ts}. The client remembers the last seq of every
 * topic; after a dropped connection it reconnects with exponential backoff and jitter and
 * resubscribes with after_seq, so the server replays what was missed. Events are
 * delivered once each, in seq order. Subscriptions ask for batches: replayed events
 * arrive as one frame holding an array of envelopes per page (a long run's history in a
 * handful of frames); live events are single envelopes.
 */
(function () {
  "use strict";

  var BACKOFF_MIN_MS = 500;
  var BACKOFF_MAX_MS = 30000;
  var CLOSE_AUTH_FAILED = 4401;

  var topics = new Map(); // topic -> {lastSeq: number|null, handlers: Set, options: []}
  var statusHandlers = new Set();
  var socket = null;
  var status = "closed";
  var attempt = 0;
  var retryTimer = null;

  function socketUrl() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + window.location.host + "/ws/";
  }

  function setStatus(next, detail) {
    if (next === status && !detail) return;
    status = next;
    statusHandlers.forEach(function (fn) {
      try { fn(status, detail || {}); } catch (err) { console.error(err); }
    });
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
    }
  }

  function sendSubscribe(topic, entry) {
    var message = { action: "subscribe", topic: topic, batch: true };
    if (entry.lastSeq !== null) message.after_seq = entry.lastSeq;
    send(message);
  }

  function eachOption(entry, name, arg) {
    entry.options.forEach(function (options) {
      if (typeof options[name] === "function") {
        try { options[name](arg); } catch (err) { console.error(err); }
      }
    });
  }

  function handleMessage(message) {
    var entry = message.topic ? topics.get(message.topic) : null;
    if (message.type === "error") {
      if (entry) {
        // A refused subscription stays refused: do not retry it on every reconnect.
        topics.delete(message.topic);
        eachOption(entry, "onError", message.data);
        if (!entry.options.some(function (o) { return typeof o.onError === "function"; })) {
          console.warn("realtime: " + message.topic + ": " + message.data.message);
        }
      } else {
        console.warn("realtime: " + (message.data && message.data.message));
      }
      return;
    }
    if (!entry) return;
    if (message.type === "subscribed") {
      // First subscription: start from the current seq. A seq below ours means the
      // stream was reset on the server; follow it rather than dropping new events.
      if (entry.lastSeq === null || message.seq < entry.lastSeq) entry.lastSeq = message.seq;
      eachOption(entry, "onSubscribed", message);
      return;
    }
    if (message.type === "unsubscribed" || typeof message.seq !== "number") return;
    if (entry.lastSeq !== null && message.seq <= entry.lastSeq) return; // duplicate
    entry.lastSeq = message.seq;
    entry.handlers.forEach(function (fn) {
      try { fn(message); } catch (err) { console.error(err); }
    });
  }

  function scheduleReconnect() {
    if (retryTimer !== null || topics.size === 0) return;
    var base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, attempt));
    var delay = Math.round(base / 2 + Math.random() * (base / 2)); // jitter: 50-100%
    attempt += 1;
    setStatus("reconnecting", { attempt: attempt, delayMs: delay });
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      connect();
    }, delay);
  }

  function connect() {
    if (socket || topics.size === 0) return;
    setStatus(attempt === 0 ? "connecting" : "reconnecting", { attempt: attempt });
    var ws = new WebSocket(socketUrl());
    socket = ws;
    ws.onopen = function () {
      attempt = 0;
      setStatus("live");
      topics.forEach(function (entry, topic) { sendSubscribe(topic, entry); });
    };
    ws.onmessage = function (frame) {
      var message;
      try { message = JSON.parse(frame.data); } catch (err) { return; }
      if (Array.isArray(message)) {
        for (var i = 0; i < message.length; i++) handleMessage(message[i]);
      } else {
        handleMessage(message);
      }
    };
    ws.onclose = function (event) {
      if (socket !== ws) return;
      socket = null;
      if (event.code === CLOSE_AUTH_FAILED) {
        setStatus("closed", { reason: "authentication failed" });
        return;
      }
      if (topics.size === 0) {
        setStatus("closed");
        return;
      }
      scheduleReconnect();
    };
  }

  function reconnectNow() {
    if (socket || topics.size === 0) return;
    if (retryTimer !== null) {
      window.clearTimeout(retryTimer);
      retryTimer = null;
    }
    connect();
  }

  function subscribe(topic, onEvent, options) {
    options = options || {};
    var entry = topics.get(topic);
    var isNew = !entry;
    if (isNew) {
      var after = typeof options.afterSeq === "number" ? options.afterSeq : null;
      entry = { lastSeq: after, handlers: new Set(), options: [] };
      topics.set(topic, entry);
    }
    entry.handlers.add(onEvent);
    entry.options.push(options);
    if (isNew && socket && socket.readyState === WebSocket.OPEN) sendSubscribe(topic, entry);
    if (!socket) reconnectNow();

    var active = true;
    return function unsubscribe() {
      if (!active) return;
      active = false;
      entry.handlers.delete(onEvent);
      entry.options.splice(entry.options.indexOf(options), 1);
      if (entry.handlers.size > 0 || topics.get(topic) !== entry) return;
      topics.delete(topic);
      send({ action: "unsubscribe", topic: topic });
      if (topics.size === 0 && socket) {
        var ws = socket;
        socket = null;
        ws.close(1000);
        setStatus("closed");
      }
    };
  }

  function onStatus(fn) {
    statusHandlers.add(fn);
    try { fn(status, {}); } catch (err) { console.error(err); }
    return function () { statusHandlers.delete(fn); };
  }

  // Come back at once when the network does, instead of waiting out the backoff.
  window.addEventListener("online", reconnectNow);

  window.AgoraRealtime = {
    subscribe: subscribe,
    onStatus: onStatus,
    status: function () { return status; },
    lastSeq: function (topic) {
      var entry = topics.get(topic);
      return entry ? entry.lastSeq : null;
    },
  };
})();
