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
      // The Content-Security-Policy allows no style attribute, and ECharts' HTML tooltips carry some (the colour
      // markers): draw the tooltips in the canvas instead.
      if (option.tooltip) {
        [].concat(option.tooltip).forEach(function (tip) { tip.renderMode = "richText"; });
      }
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
  // Tick every box of a list: <input type="checkbox" data-check-all="helper-bulk"> ticks the boxes of that form
  // (inside it, or outside with form="helper-bulk"; name="ids"); [data-checked-count] inside the form shows how many
  // are ticked.
  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-check-all]");
    var formId = all ? all.dataset.checkAll : event.target.getAttribute("form");
    if (!formId || !(all || event.target.name === "ids")) return;
    var boxes = document.querySelectorAll(
      '#' + formId + ' input[name=ids], input[name=ids][form="' + formId + '"]');
    if (all) boxes.forEach(function (box) { box.checked = all.checked; });
    var ticked = Array.prototype.filter.call(boxes, function (box) { return box.checked; }).length;
    document.querySelectorAll('#' + formId + ' [data-checked-count]').forEach(function (el) {
      el.textContent = ticked;
    });
    var submit = document.querySelector('#' + formId + ' [type=submit]');
    if (submit) submit.disabled = ticked === 0;
  });
  // Income preview on a household form: <div data-income-preview data-size="家庭人口" data-line="监测收入标准">
  // with [data-net], [data-per-capita] and [data-below] inside; the national formula, worked out as one types.
  var INCOME = { wage_income: 1, business_income: 1, business_expense: -1, property_income: 1, transfer_income: 1 };
  function money(n) {
    return n.toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  function incomePreview(form) {
    var box = form && form.querySelector("[data-income-preview]");
    if (!box) return;
    var net = 0;
    for (var name in INCOME) {
      var field = form.elements[name];
      var value = field ? Number(String(field.value).replace(/[,\s]/g, "")) : NaN;
      if (!field || field.value.trim() === "" || !isFinite(value)) { box.hidden = true; return; }
      net += INCOME[name] * value;
    }
    var size = parseInt(box.dataset.size, 10);
    var perCapita = size > 0 ? Math.round((net / size) * 100) / 100 : null;
    box.querySelector("[data-net]").textContent = money(net);
    box.querySelector("[data-per-capita]").textContent = perCapita === null ? "—（无在册成员）" : money(perCapita);
    var line = Number(box.dataset.line);
    box.querySelector("[data-below]").hidden = !(perCapita !== null && line > 0 && perCapita < line);
    box.hidden = false;
  }
  document.addEventListener("input", function (event) {
    if (event.target.form) incomePreview(event.target.form);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(incomePreview);
  });
  document.addEventListener("DOMContentLoaded", function () { drawCharts(document); });
  document.addEventListener("htmx:afterSwap", function (event) { drawCharts(event.target); });
})();
