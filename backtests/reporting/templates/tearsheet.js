/* catalyst-bt tearsheet: sortable / filterable tables and Plotly charts. No network. */
(function () {
  "use strict";
  function cellKey(td) {
    if (!td) return { num: false, v: "" };
    var raw = td.getAttribute("data-value");
    if (raw !== null && raw !== "" && !isNaN(Number(raw))) return { num: true, v: Number(raw) };
    return { num: false, v: td.textContent.trim().toLowerCase() };
  }
  function sortBy(th) {
    var table = th.closest("table"), body = table.tBodies[0];
    if (!body) return;
    var col = Array.prototype.indexOf.call(th.parentNode.children, th);
    var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    Array.prototype.forEach.call(th.parentNode.children, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
    var sign = dir === "ascending" ? 1 : -1;
    var rows = Array.prototype.slice.call(body.rows);
    rows.forEach(function (r, i) { r._i = i; });
    rows.sort(function (a, b) {
      var x = cellKey(a.cells[col]), y = cellKey(b.cells[col]);
      if (x.v === "" && y.v !== "") return 1;
      if (y.v === "" && x.v !== "") return -1;
      var c = 0;
      if (x.num && y.num) c = x.v - y.v; else c = String(x.v).localeCompare(String(y.v), undefined, { numeric: true });
      return c !== 0 ? sign * c : a._i - b._i;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  document.querySelectorAll("table.sortable thead th").forEach(function (th) {
    th.tabIndex = 0;
    th.title = th.title || "click to sort";
    th.addEventListener("click", function () { sortBy(th); });
    th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(th); } });
  });
  document.querySelectorAll("input.filter").forEach(function (box) {
    box.addEventListener("input", function () {
      var table = document.getElementById(box.getAttribute("data-filter-for"));
      var q = box.value.trim().toLowerCase();
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        r.style.display = !q || r.textContent.toLowerCase().indexOf(q) >= 0 ? "" : "none";
      });
    });
  });

  var charts = document.querySelectorAll("[data-chart]");
  function fail(msg) {
    charts.forEach(function (el) {
      el.textContent = "Chart not drawn: " + msg + ". `catalyst-bt report OUTDIR --png` writes the figures as PNG files.";
      el.className += " chart-error";
    });
    document.body.setAttribute("data-charts", "failed");
  }
  function draw() {
    var config = { displaylogo: false, responsive: true, scrollZoom: false,
                   modeBarButtonsToRemove: ["select2d", "lasso2d"] };
    charts.forEach(function (el) {
      var spec = JSON.parse(document.getElementById(el.id + "-data").textContent);
      if (window.innerWidth < 600 && spec.layout) {
        spec.layout.margin = Object.assign({}, spec.layout.margin || {}, { l: 44, r: 6 });
        if (spec.narrow === "transpose") {  /* e.g. 12 months: rows on a phone, not columns */
          spec.data.forEach(function (t) {
            var z = t.z, text = t.text, x = t.x;
            t.x = t.y; t.y = x;
            t.z = x.map(function (_, j) { return z.map(function (row) { return row[j]; }); });
            if (text) t.text = x.map(function (_, j) { return text.map(function (row) { return row[j]; }); });
            t.hovertemplate = "%{y} %{x}: %{z:.2%}<extra></extra>";
          });
          spec.layout.height = 70 + 26 * spec.data[0].y.length;
        }
      }
      window.Plotly.newPlot(el, spec.data, spec.layout, Object.assign({}, config, spec.config || {}));
    });
    document.body.setAttribute("data-charts", "ready");
  }
  var packed = document.getElementById("plotly-gz");
  if (!charts.length || !packed) { document.body.setAttribute("data-charts", "none"); return; }
  if (typeof DecompressionStream === "undefined") { fail("this browser has no DecompressionStream (use a 2023+ browser)"); return; }
  var bin = atob(packed.textContent.trim()), bytes = new Uint8Array(bin.length);
  for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))).text().then(function (code) {
    performance.mark("plotly-unpacked");
    var s = document.createElement("script");
    s.textContent = code;
    document.head.appendChild(s);
    performance.mark("plotly-loaded");
    draw();
    performance.mark("charts-drawn");
  }).catch(function (e) { fail(String(e)); console.error(e); });
})();
