// jangteo console: the dashboard's chart and sortable tables; every page works without this file.
(function () {
  "use strict";

  // ---- the dashboard: revenue bars and order/member lines, from <script id="sales-data"> ----
  function drawSalesChart() {
    var data = document.getElementById("sales-data");
    var canvas = document.getElementById("sales-chart");
    if (!data || !canvas || typeof window.Chart === "undefined") return;
    var chart = JSON.parse(data.textContent);
    var won = function (value) {
      return Number(value).toLocaleString("ko-KR") + (chart.currency === "원" ? "원" : " KRW");
    };
    new window.Chart(canvas, {
      data: {
        labels: chart.labels,
        datasets: [
          {
            type: "bar",
            label: chart.names.revenue,
            data: chart.revenue,
            backgroundColor: "rgba(11, 97, 72, 0.55)",
            yAxisID: "revenue",
            order: 2,
          },
          {
            type: "line",
            label: chart.names.orders,
            data: chart.orders,
            borderColor: "#b42318",
            backgroundColor: "#b42318",
            yAxisID: "count",
            tension: 0.25,
            order: 1,
          },
          {
            type: "line",
            label: chart.names.members,
            data: chart.members,
            borderColor: "#1d4ed8",
            backgroundColor: "#1d4ed8",
            borderDash: [6, 4],
            yAxisID: "count",
            tension: 0.25,
            order: 1,
          },
        ],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          revenue: {
            position: "left",
            beginAtZero: true,
            ticks: { callback: won },
          },
          count: {
            position: "right",
            beginAtZero: true,
            grid: { drawOnChartArea: false },
            ticks: { precision: 0 },
          },
        },
        plugins: {
          tooltip: {
            callbacks: {
              label: function (item) {
                var value = item.dataset.yAxisID === "revenue" ? won(item.raw) : item.raw;
                return item.dataset.label + ": " + value;
              },
            },
          },
        },
      },
    });
  }

  // ---- tables: a header with data-sort sorts the rows of this page when clicked -------------
  function cellValue(row, index, kind) {
    var cell = row.cells[index];
    if (!cell) return "";
    var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent;
    if (kind === "number") {
      var number = parseFloat(String(raw).replace(/[^0-9.+-]/g, ""));
      return isNaN(number) ? -Infinity : number;
    }
    return String(raw).trim().toLowerCase();
  }

  function makeSortable(table) {
    var headers = table.querySelectorAll("thead th[data-sort]");
    headers.forEach(function (th) {
      var index = Array.prototype.indexOf.call(th.parentNode.children, th);
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = th.textContent;
      th.textContent = "";
      th.appendChild(button);
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        headers.forEach(function (other) {
          other.removeAttribute("aria-sort");
        });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var kind = th.getAttribute("data-sort");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, index, kind);
          var y = cellValue(b, index, kind);
          var order = x < y ? -1 : x > y ? 1 : 0;
          return ascending ? order : -order;
        });
        rows.forEach(function (row) {
          body.appendChild(row);
        });
      });
    });
  }

  function enhance(root) {
    root.querySelectorAll("table[data-sortable]:not([data-sort-ready])").forEach(function (t) {
      t.setAttribute("data-sort-ready", "");
      makeSortable(t);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawSalesChart();
    enhance(document);
  });
  document.addEventListener("htmx:afterSettle", function () {
    enhance(document);
  });
})();
