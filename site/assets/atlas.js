/* Small Models Atlas: sortable, filterable paper tables.
 *
 * A table lives in <div data-atlas-papers> with a <form class="atlas-filters"> (hidden until this
 * script runs) and rows carrying data-year, data-kind, data-code ("yes"/"no") and data-tags
 * (space-separated tag ids). Filters: free text, year range, venue kind, code, tag. Clicking a
 * column header sorts by it. The query string (?q=&from=&to=&kind=&code=&tag=) presets the filters.
 * No dependencies; nothing is fetched.
 */
(function () {
  "use strict";

  function rowText(row) {
    if (row._atlasText === undefined) {
      row._atlasText = (row.cells[0].textContent + " " + row.cells[1].textContent + " " +
        row.cells[3].textContent).toLowerCase();
    }
    return row._atlasText;
  }

  function setUp(box) {
    if (box.dataset.atlasReady) return;
    box.dataset.atlasReady = "1";
    var form = box.querySelector("form.atlas-filters");
    var table = box.querySelector("table");
    if (!form || !table) return;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var count = form.querySelector(".atlas-count");
    var total = rows.length;

    function value(name) {
      var el = form.elements[name];
      return el ? el.value.trim() : "";
    }

    function apply() {
      var words = value("q").toLowerCase().split(/\s+/).filter(Boolean);
      var from = parseInt(value("from"), 10);
      var to = parseInt(value("to"), 10);
      var kind = value("kind");
      var code = value("code");
      var tag = value("tag");
      var shown = 0;
      for (var i = 0; i < rows.length; i++) {
        var row = rows[i];
        var d = row.dataset;
        var year = parseInt(d.year, 10);
        var ok = (isNaN(from) || year >= from) && (isNaN(to) || year <= to) &&
          (!kind || d.kind === kind) && (!code || d.code === code) &&
          (!tag || (" " + d.tags + " ").indexOf(" " + tag + " ") !== -1);
        if (ok && words.length) {
          var text = rowText(row);
          for (var w = 0; w < words.length && ok; w++) ok = text.indexOf(words[w]) !== -1;
        }
        row.hidden = !ok;
        if (ok) shown++;
      }
      count.textContent = shown === total ? total + " papers" : shown + " of " + total + " papers";
    }

    function sortBy(th, index) {
      var numeric = th.dataset.sort === "num";
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      var headers = table.tHead.rows[0].cells;
      for (var h = 0; h < headers.length; h++) headers[h].removeAttribute("aria-sort");
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var keyed = rows.map(function (row, position) {
        var text = row.cells[index].textContent.trim();
        return { row: row, key: numeric ? parseFloat(text) || 0 : text.toLowerCase(), position: position };
      });
      keyed.sort(function (a, b) {
        var c = a.key < b.key ? -1 : a.key > b.key ? 1 : a.position - b.position;
        return ascending ? c : -c;
      });
      var fragment = document.createDocumentFragment();
      keyed.forEach(function (k) { fragment.appendChild(k.row); });
      body.appendChild(fragment);
      rows = keyed.map(function (k) { return k.row; });
    }

    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      if (!th.dataset.sort) return;
      th.tabIndex = 0;
      th.title = "Sort by " + th.textContent.toLowerCase();
      th.addEventListener("click", function () { sortBy(th, index); });
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortBy(th, index); }
      });
    });

    var params = new URLSearchParams(window.location.search);
    ["q", "from", "to", "kind", "code", "tag"].forEach(function (name) {
      var el = form.elements[name];
      if (el && params.has(name)) el.value = params.get(name);
    });
    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    form.addEventListener("reset", function () { window.setTimeout(apply, 0); });
    form.hidden = false;
    apply();
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-atlas-papers]"), setUp);
  }

  if (typeof window.document$ !== "undefined" && window.document$.subscribe) {
    window.document$.subscribe(init);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
