// Live content: when Directus changes an item shown on this page, re-fetch the page and
// swap the marked regions (the server renders; nothing is rendered in the browser).
(function () {
  "use strict";
  function refresh(root) {
    fetch(window.location.href, { headers: { "X-Requested-With": "live-content" }, cache: "no-store" })
      .then(function (response) {
        if (response.status === 404) {
          root.querySelectorAll("[data-live-region=article]").forEach(function (el) {
            el.innerHTML = '<p class="flash flash-info">This page was removed or unpublished.</p>';
          });
          return null;
        }
        return response.ok ? response.text() : null;
      })
      .then(function (text) {
        if (!text) return;
        var doc = new DOMParser().parseFromString(text, "text/html");
        root.querySelectorAll("[data-live-region]").forEach(function (region) {
          var name = region.getAttribute("data-live-region");
          var fresh = doc.querySelector('[data-live-region="' + name + '"]');
          if (fresh) region.innerHTML = fresh.innerHTML;
        });
        document.dispatchEvent(new CustomEvent("agora:content-refreshed"));
      })
      .catch(function () { /* offline: the next event or a reload will catch up */ });
  }
  function start() {
    var root = document.querySelector("[data-live-content]");
    if (!root || !window.AgoraRealtime) return;
    var collection = root.getAttribute("data-collection");
    var key = root.getAttribute("data-key");
    var timer = null;
    window.AgoraRealtime.subscribe("content", function (event) {
      var data = (event && event.data) || {};
      // Item pages follow their item (and the docs sidebar follows every doc).
      var relevant = data.collection === collection && (!key || String(data.key) === key || collection === "docs");
      if (!relevant) return;
      clearTimeout(timer);
      timer = setTimeout(function () { refresh(root); }, 150);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
