/* Small Models Atlas: sortable, filterable paper tables.
 *
 * A table lives in <div data-atlas-papers data-bib="URL of its .bib file"> with a <form
 * class="atlas-filters"> (hidden until this script runs) and rows carrying data-year, data-kind,
 * data-code ("yes"/"no"), data-tags (tag ids), data-topics (node ids with their ancestors),
 * data-models and data-key (the BibTeX citation key). Filters: free text, year range, topic, venue
 * kind, code, tag. Clicking a column header sorts by it.
 *
 * The filters live in the address (?q=&from=&to=&topic=&kind=&code=&tag=&sort=), rewritten with
 * history.replaceState as they change, so a filtered view can be shared and reloaded. "BibTeX of
 * these papers" fetches the table's .bib file (from the same site) and saves the entries of the
 * rows shown.
 */
(function () {
  "use strict";

  function rowText(row) {
    if (row._atlasText === undefined) {
      row._atlasText = (row.cells[0].textContent + " " + row.cells[1].textContent + " " +
        row.cells[3].textContent + " " + (row.dataset.models || "")).toLowerCase();
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

    var FILTERS = ["q", "from", "to", "topic", "kind", "code", "tag"];
    var sorted = "";  // "year" or "-year": the column sorted by, for the address

    function has(list, id) {
      return (" " + list + " ").indexOf(" " + id + " ") !== -1;
    }

    /* Write the filters that differ from their defaults into the address. */
    function remember() {
      var params = new URLSearchParams(window.location.search);
      FILTERS.forEach(function (name) {
        var el = form.elements[name];
        if (!el) return;
        var v = el.value.trim();
        if (v && v !== el.defaultValue) params.set(name, v); else params.delete(name);
      });
      if (sorted) params.set("sort", sorted); else params.delete("sort");
      var search = params.toString();
      var address = window.location.pathname + (search ? "?" + search : "") + window.location.hash;
      if (address !== window.location.pathname + window.location.search + window.location.hash) {
        window.history.replaceState(window.history.state, "", address);
      }
    }

    function apply() {
      var words = value("q").toLowerCase().split(/\s+/).filter(Boolean);
      var from = parseInt(value("from"), 10);
      var to = parseInt(value("to"), 10);
      var topic = value("topic");
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
          (!tag || has(d.tags, tag)) && (!topic || has(d.topics, topic));
        if (ok && words.length) {
          var text = rowText(row);
          for (var w = 0; w < words.length && ok; w++) ok = text.indexOf(words[w]) !== -1;
        }
        row.hidden = !ok;
        if (ok) shown++;
      }
      count.textContent = shown === total ? total + " papers" : shown + " of " + total + " papers";
      remember();
    }

    function sortBy(th, index, direction) {
      var numeric = th.dataset.sort === "num";
      var ascending = direction ? direction === "ascending" : th.getAttribute("aria-sort") !== "ascending";
      sorted = (ascending ? "" : "-") + th.textContent.trim().toLowerCase();
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
      remember();
    }

    /* Save the BibTeX entries of the rows shown, taken from the table's .bib file. */
    function downloadBib(button) {
      var keys = {};
      rows.forEach(function (row) { if (!row.hidden) keys[row.dataset.key] = true; });
      button.disabled = true;
      fetch(box.dataset.bib).then(function (response) {
        if (!response.ok) throw new Error(response.status + " " + response.statusText);
        return response.text();
      }).then(function (text) {
        var entries = text.split(/\n(?=@)/).filter(function (entry) {
          var match = /^@\w+\{([^,]+),/.exec(entry.trim());
          return match && keys[match[1]];
        });
        var blob = new Blob([entries.map(function (e) { return e.trim(); }).join("\n\n") + "\n"],
          { type: "application/x-bibtex" });
        var link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = (box.dataset.bibName || "papers.bib").replace(/\.bib$/, "") +
          (count.textContent.indexOf(" of ") !== -1 ? "-filtered" : "") + ".bib";
        document.body.appendChild(link);
        link.click();
        link.remove();
        window.setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
      }).catch(function (error) {
        console.warn("BibTeX download failed: " + error);
      }).then(function () { button.disabled = false; });
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
    FILTERS.forEach(function (name) {
      var el = form.elements[name];
      if (el && params.has(name)) el.value = params.get(name);
    });
    var sortParam = params.get("sort") || "";
    if (sortParam) {
      var name = sortParam.replace(/^-/, "");
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
        if (th.dataset.sort && th.textContent.trim().toLowerCase() === name) {
          sortBy(th, index, sortParam.charAt(0) === "-" ? "descending" : "ascending");
        }
      });
    }
    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    form.addEventListener("reset", function () { sorted = ""; window.setTimeout(apply, 0); });
    var bibButton = form.querySelector("[data-atlas-bib]");
    if (bibButton) bibButton.addEventListener("click", function () { downloadBib(bibButton); });
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
