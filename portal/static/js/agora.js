// Small site-wide behaviours: the mobile navigation toggle and dismissible flashes.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.querySelector(".nav-toggle");
    var nav = document.getElementById("site-nav");
    if (toggle && nav) {
      toggle.addEventListener("click", function () {
        var open = nav.classList.toggle("open");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
    document.querySelectorAll(".flash").forEach(function (flash) {
      flash.addEventListener("click", function () { flash.remove(); });
    });
  });
})();
