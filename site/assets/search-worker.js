/* Small Models Atlas: the search worker behind Material's search box, over a Pagefind index.
 *
 * It speaks Material 9.8's worker messages (SETUP -> READY, QUERY -> RESULT) and answers from
 * Pagefind (pagefind/pagefind.js, loaded on the first query): a chunked index, so a query fetches
 * only the few fragments it needs. The index holds titles, short names, model names, authors,
 * summaries, venue, year, tags and topics, with titles and model names weighted most (see
 * smatlas/site/search.py).
 *
 * Typo tolerance: when a query finds nothing, each of its words of five letters or more that is
 * not in the index's vocabulary (pagefind/vocab/<length>.json) is replaced by the most frequent
 * vocabulary word one edit away (a letter added, removed, changed, or two neighbours swapped),
 * and the corrected query is run.
 *
 * Material writes a result's title and text as HTML: titles are escaped here; Pagefind's excerpts
 * are escaped text with <mark> around the matches.
 */
"use strict";

var SETUP = 0, READY = 1, QUERY = 2, RESULT = 3;
var SHOWN = 20;  // results whose details are fetched; Material shows ten, then more on scroll
var base = new URL("../", self.location.href);  // this file is assets/search-worker.js
var pagefind = null;
var vocab = {};
var latest = 0;

function load() {
  if (!pagefind) {
    pagefind = import(new URL("pagefind/pagefind.js", base).href).then(function (pf) {
      return Promise.resolve(pf.init()).then(function () { return pf; });
    });
  }
  return pagefind;
}

function fold(text) {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

function words(query) {
  return fold(query).split(/[^\p{L}\p{N}]+/u).filter(Boolean);
}

function escapeHtml(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

function shard(length) {
  if (!(length in vocab)) {
    vocab[length] = fetch(new URL("pagefind/vocab/" + length + ".json", base))
      .then(function (r) { return r.ok ? r.json() : {}; })
      .catch(function () { return {}; });
  }
  return vocab[length];
}

/* True when b is one edit away from a: one letter inserted, deleted or substituted, or two
 * neighbouring letters swapped. */
function oneEdit(a, b) {
  if (a === b) return false;
  var la = a.length, lb = b.length;
  if (Math.abs(la - lb) > 1) return false;
  var i = 0;
  while (i < la && i < lb && a[i] === b[i]) i++;
  if (la === lb) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true;
    return i + 1 < la && a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
  }
  return la > lb ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

function correct(word) {
  if (word.length < 5) return Promise.resolve(null);
  var lengths = [word.length - 1, word.length, word.length + 1];
  return Promise.all(lengths.map(shard)).then(function (shards) {
    if (Object.prototype.hasOwnProperty.call(shards[1], word)) return null;
    var best = null, count = 0;
    shards.forEach(function (s) {
      for (var w in s) {
        if (s[w] > count && oneEdit(word, w)) { best = w; count = s[w]; }
      }
    });
    return best;
  });
}

function items(results) {
  return Promise.all(results.slice(0, SHOWN).map(function (r) { return r.data(); })).then(function (data) {
    return data.map(function (d, i) {
      var location = (d.raw_url || d.url || "").replace(/^\//, "");
      var line = d.meta && d.meta.line ? "<span class=\"atlas-result-line\">" + escapeHtml(d.meta.line) + "</span><br>" : "";
      return [{
        location: location,
        title: escapeHtml(d.meta && d.meta.title ? d.meta.title : location),
        text: line + (d.excerpt || ""),
        score: SHOWN - i,
        terms: {}
      }];
    });
  });
}

function search(query) {
  return load().then(function (pf) {
    return pf.search(query).then(function (found) {
      if (found.results.length) return found.results;
      var parts = words(query);
      return Promise.all(parts.map(correct)).then(function (fixed) {
        if (!fixed.some(Boolean)) return [];
        var corrected = parts.map(function (w, i) { return fixed[i] || w; }).join(" ");
        return pf.search(corrected).then(function (again) { return again.results; });
      });
    });
  }).then(items);
}

addEventListener("message", function (event) {
  var message = event.data;
  if (message.type === SETUP) {
    postMessage({ type: READY });
  } else if (message.type === QUERY) {
    var query = String(message.data || "").trim();
    var mine = ++latest;
    if (!query) {
      postMessage({ type: RESULT, data: { items: [] } });
      return;
    }
    search(query).then(function (found) {
      if (mine === latest) postMessage({ type: RESULT, data: { items: found } });
    }, function (error) {
      console.warn("search failed: " + error);
      if (mine === latest) postMessage({ type: RESULT, data: { items: [] } });
    });
  }
});
