// sqlready HTML report: sorting, filtering and live totals over the
// server-rendered tables. It reads data- attributes and text only; it never
// builds markup from the report's text (no innerHTML), so a target's name
// stays text whatever it contains.
(function () {
  "use strict";
  var matrix = document.getElementById("matrix");
  var form = document.getElementById("filters");
  if (!matrix || !form) { return; }
  var body = matrix.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var FIXED = 7; // target, platform, engine, role, score, judged, tags
  var entries = rows.map(function (row) {
    var tags = row.getAttribute("data-tags") || "";
    var section = document.getElementById("t" + row.getAttribute("data-i"));
    return {
      row: row,
      section: section,
      s: row.getAttribute("data-s") || "",
      kind: row.getAttribute("data-kind") || "",
      engine: row.getAttribute("data-engine") || "",
      tags: tags === "" ? [] : tags.split("\n"),
      text: (row.cells[0].textContent + "\n" + tags + "\n" + row.getAttribute("data-engine") + "\n" + row.getAttribute("data-kind")).toLowerCase()
    };
  });
  var field = function (id) { return document.getElementById(id); };
  var controls = ["f-status", "f-item", "f-engine", "f-kind", "f-tag", "f-text"].map(field);
  var shown = field("f-shown");
  var sheet = document.styleSheets[0];
  var columnRules = 0;

  function showColumns(item) {
    while (columnRules > 0) { sheet.deleteRule(sheet.cssRules.length - 1); columnRules -= 1; }
    if (item === "") { return; }
    var k = Number(item);
    sheet.insertRule("#matrix thead tr > :nth-child(n+" + (FIXED + 1) + "):not(:nth-child(" + (FIXED + 1 + k) + ")), #matrix tbody tr > :nth-child(n+" + (FIXED + 1) + "):not(:nth-child(" + (FIXED + 1 + k) + ")) { display: none; }", sheet.cssRules.length);
    sheet.insertRule("#matrix tfoot tr > td:not(:nth-child(" + (2 + k) + ")) { display: none; }", sheet.cssRules.length);
    columnRules = 2;
  }

  function matches(entry, f) {
    if (f.status !== "") {
      if (f.item !== "") {
        if (entry.s.charAt(Number(f.item)) !== f.status) { return false; }
      } else if (entry.s.indexOf(f.status) < 0) { return false; }
    }
    if (f.engine !== "" && entry.engine !== f.engine) { return false; }
    if (f.kind !== "" && entry.kind !== f.kind) { return false; }
    if (f.tag !== "" && entry.tags.indexOf(f.tag) < 0) { return false; }
    if (f.text !== "" && entry.text.indexOf(f.text) < 0) { return false; }
    return true;
  }

  function totals(visible) {
    var foot = matrix.tFoot;
    if (!foot) { return; }
    Array.prototype.forEach.call(foot.rows, function (tr) {
      var code = tr.getAttribute("data-code");
      var cells = tr.querySelectorAll("td");
      var all = 0;
      for (var k = 0; k < cells.length; k += 1) {
        var n = 0;
        for (var i = 0; i < visible.length; i += 1) {
          if (visible[i].s.charAt(k) === code) { n += 1; }
        }
        cells[k].textContent = String(n);
        all += n;
      }
      var sum = tr.querySelector(".all");
      if (sum) { sum.textContent = String(all); }
    });
  }

  function apply() {
    var f = {
      status: controls[0].value, item: controls[1].value, engine: controls[2].value,
      kind: controls[3].value, tag: controls[4].value, text: controls[5].value.trim().toLowerCase()
    };
    var visible = [];
    entries.forEach(function (entry) {
      var keep = matches(entry, f);
      entry.row.hidden = !keep;
      if (entry.section) { entry.section.hidden = !keep; }
      if (keep) { visible.push(entry); }
    });
    showColumns(f.item);
    totals(visible);
    shown.textContent = visible.length + " of " + entries.length + " targets shown";
    document.body.setAttribute("data-shown", String(visible.length));
  }

  var sortState = { key: null, dir: 1 };
  function sortKey(entry, th) {
    var key = th.getAttribute("data-sort");
    var row = entry.row;
    if (key === "score") { return Number(row.getAttribute("data-score")); }
    if (key === "cov") { return Number(row.getAttribute("data-cov")); }
    if (key === "kind") { return entry.kind; }
    if (key === "engine") { return entry.engine; }
    if (key === "item") { return "nuwepf".indexOf(entry.s.charAt(Number(th.getAttribute("data-col")))); }
    return row.cells[0].textContent;
  }
  function sortBy(th) {
    var same = sortState.key === th;
    sortState = { key: th, dir: same ? -sortState.dir : (th.getAttribute("data-sort") === "id" ? 1 : -1) };
    Array.prototype.forEach.call(matrix.tHead.rows[0].cells, function (cell) { cell.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", sortState.dir > 0 ? "ascending" : "descending");
    var keyed = entries.map(function (entry, i) { return { entry: entry, key: sortKey(entry, th), i: i }; });
    keyed.sort(function (a, b) {
      if (a.key < b.key) { return -sortState.dir; }
      if (a.key > b.key) { return sortState.dir; }
      return a.i - b.i;
    });
    var fragment = document.createDocumentFragment();
    keyed.forEach(function (k) { fragment.appendChild(k.entry.row); });
    body.appendChild(fragment);
  }
  Array.prototype.forEach.call(matrix.tHead.rows[0].cells, function (th) {
    if (!th.hasAttribute("data-sort")) { return; }
    th.tabIndex = 0;
    th.addEventListener("click", function () { sortBy(th); });
    th.addEventListener("keydown", function (event) { if (event.key === "Enter") { sortBy(th); } });
  });

  controls.forEach(function (control) {
    control.addEventListener("input", apply);
    control.addEventListener("change", apply);
  });
  form.addEventListener("reset", function () { window.setTimeout(apply, 0); });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.hidden = false;
  apply();
})();
