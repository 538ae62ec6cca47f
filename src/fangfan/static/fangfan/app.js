// Small behaviours shared by every page; no inline scripts (CSP forbids them).
(function () {
  "use strict";
  // Charts: any element with data-chart="<id of a json_script>" gets an ECharts option from that JSON.
  function drawCharts(root) {
    if (!window.echarts) return;
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.dataset.chart);
      if (!source) return;
      var chart = window.echarts.getInstanceByDom(el) || window.echarts.init(el);
      var option = JSON.parse(source.textContent);
      // "links": [series][data index] → the address a click on that bar opens (the households it counts).
      var links = option.links;
      delete option.links;
      chart.setOption(option);
      if (links) {
        chart.off("click");
        chart.on("click", function (params) {
          var url = (links[params.seriesIndex] || [])[params.dataIndex];
          if (url) window.location.assign(url);
        });
      }
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  // Confirm dangerous actions: <button data-confirm="确定吗？">
  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-confirm]");
    if (el && !window.confirm(el.dataset.confirm)) { event.preventDefault(); }
  });
  // Print the page: <button data-print>.
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
  });
  // Auto-submit filter forms on change: <form data-autosubmit>. Not for a text box: it submits with Enter or the
  // button, and its change event (on leaving it, e.g. to click that button) would send the form a second time.
  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-autosubmit]");
    if (!form || event.target.matches("input[type=search], input[type=text], textarea")) return;
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  });
  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.addEventListener("htmx:afterSwap", function (event) { drawCharts(event.target); });
})();
