// jangteo "My earnings": the bar chart of the last 30 days, from <script id="earnings-data">;
// the same figures are in the table below it, and the page works without this file.
(function () {
  "use strict";

  function drawEarningsChart() {
    var data = document.getElementById("earnings-data");
    var canvas = document.getElementById("earnings-chart");
    if (!data || !canvas || typeof window.Chart === "undefined") return;
    var chart = JSON.parse(data.textContent);
    var won = function (value) {
      return chart.locale === "ko"
        ? Number(value).toLocaleString("ko-KR") + "원"
        : "₩" + Number(value).toLocaleString("en-US");
    };
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: chart.labels,
        datasets: [
          {
            label: chart.name,
            data: chart.amounts,
            backgroundColor: "rgba(11, 97, 72, 0.55)",
          },
        ],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: { y: { beginAtZero: true, ticks: { callback: won, precision: 0 } } },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (item) {
                return item.dataset.label + ": " + won(item.raw);
              },
            },
          },
        },
      },
    });
  }

  document.addEventListener("DOMContentLoaded", drawEarningsChart);
})();
