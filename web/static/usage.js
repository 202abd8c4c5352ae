// Draws the usage page's chart (one line per key and entry) from the
// <script type="application/json" id="usage-data"> block; the table below
// it shows the same numbers without JavaScript.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("usage-chart");
  const data = document.getElementById("usage-data");
  if (!el || !data || typeof echarts === "undefined") return;
  const spec = JSON.parse(data.textContent);
  const chart = echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    aria: { enabled: true },
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { bottom: 0 },
    grid: { left: 56, right: 16, top: 24, bottom: 72 },
    xAxis: { type: "category", data: spec.days },
    yAxis: { type: "value", name: spec.y, minInterval: 1 },
    series: (spec.series || []).map((s) => ({ type: "line", name: s.name, data: s.values })),
  });
  window.addEventListener("resize", () => chart.resize());
  el.dataset.ready = "true";
});
