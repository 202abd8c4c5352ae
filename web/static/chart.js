// Draws the dataset chart from the page's <script type="application/json"
// id="chart-data"> with the vendored ECharts (no inline script needed).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("chart");
  const data = document.getElementById("chart-data");
  if (!el || !data || typeof echarts === "undefined") return;
  const spec = JSON.parse(data.textContent);
  const chart = echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    aria: { enabled: true },
    animation: false,
    tooltip: { trigger: "axis" },
    grid: { left: 64, right: 16, top: 24, bottom: 64 },
    xAxis: { type: "category", data: spec.labels, name: spec.x, axisLabel: { rotate: spec.kind === "bar" ? 30 : 0 } },
    yAxis: { type: "value", name: spec.y },
    series: [{ type: spec.kind, data: spec.values, name: spec.y, itemStyle: { color: "#0b5cad" } }],
  });
  window.addEventListener("resize", () => chart.resize());
  el.dataset.ready = "true";
});
