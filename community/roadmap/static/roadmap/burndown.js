(function () {
  "use strict";
  var node = document.getElementById("burndown-data");
  var canvas = document.getElementById("burndown");
  if (!node || !canvas || !window.Chart) return;
  var data = JSON.parse(node.textContent);
  new window.Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [
        { label: "Remaining (days)", data: data.remaining, borderColor: "#2563eb", spanGaps: false },
        { label: "Ideal", data: data.ideal, borderColor: "#94a3b8", borderDash: [4, 4], pointRadius: 0 }
      ]
    },
    options: { animation: false, scales: { y: { beginAtZero: true } } }
  });
})();
