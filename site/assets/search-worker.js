/* Small Models Atlas: the search worker behind Material's search box, over a Pagefind index.
 *
 * It speaks Material 9.8's worker messages (SETUP -> READY, QUERY -> RESULT) and answers from
 * Pagefind (pagefind/pagefind.js, loaded on the first query): a chunked index, so a query fetches
 * only the few fragments it needs. The index holds titles, short names, model names, authors,
 * summaries, venue, year, tags and topics, with titles and model names weighted most (see
 * smatlas/site/search.py).
 *
 * Typo tolerance: a query word of five letters or more that is neither a word of the index's
 * vocabulary (pagefind/vocab/<length>.json) nor the start of a word one letter longer is replaced
 * by the most frequent vocabulary word one edit away (a letter added, removed, changed, or two
 * neighbours swapped). The corrected query's results come first, then the query's own.
 *
 * A query runs once typing pauses (QUIET ms) and has two letters or more. The first SHOWN results
 * are answered as soon as their details arrive; up to MORE follow in a second answer.
 *
 * Material writes a result's title and text as HTML: titles are escaped here; Pagefind's excerpts
 * are escaped text with <mark> around the matches.
 */
"use strict";

var SETUP = 0, READY = 1, QUERY = 2, RESULT = 3;
var SHOWN = 10;  // results whose details are fetched first (one small request each); Material shows ten
var MORE = 50;  // results answered in all, once the first ones are shown
var QUIET = 120;  // ms without a new key press before a query runs: typing "speculative" runs one query
var timer = null;
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
  if (word.length < 5 || /^[0-9]+$/.test(word)) return Promise.resolve(null);
  var lengths = [word.length - 1, word.length, word.length + 1];
  return Promise.all(lengths.map(shard)).then(function (shards) {
    if (Object.prototype.hasOwnProperty.call(shards[1], word)) return null;
    for (var longer in shards[2]) if (longer.lastIndexOf(word, 0) === 0) return null;
    var best = null, count = 0;
    shards.forEach(function (s) {
      for (var w in s) {
        if (s[w] > count && oneEdit(word, w)) { best = w; count = s[w]; }
      }
    });
    return best;
  });
}

function items(results, count) {
  return Promise.all(results.slice(0, count).map(function (r) { return r.data(); })).then(function (data) {
    return data.map(function (d, i) {
      var location = (d.raw_url || d.url || "").replace(/^\//, "");
      var line = d.meta && d.meta.line ? "<span class=\"atlas-result-line\">" + escapeHtml(d.meta.line) + "</span><br>" : "";
      return [{
        location: location,
        title: escapeHtml(d.meta && d.meta.title ? d.meta.title : location),
        text: line + (d.excerpt || ""),
        score: count - i,
        terms: {}
      }];
    });
  });
}

function search(query) {
  var parts = words(query);
  return Promise.all([load(), Promise.all(parts.map(correct))]).then(function (ready) {
    var pf = ready[0], fixed = ready[1];
    var asked = pf.search(query).then(function (found) { return found.results; });
    if (!fixed.some(Boolean)) return asked;
    var corrected = parts.map(function (w, i) { return fixed[i] || w; }).join(" ");
    return Promise.all([pf.search(corrected), asked]).then(function (both) {
      var seen = {};
      return both[0].results.concat(both[1]).filter(function (r) {
        if (seen[r.id]) return false;
        seen[r.id] = true;
        return true;
      });
    });
  });
}

addEventListener("message", function (event) {
  var message = event.data;
  if (message.type === SETUP) {
    postMessage({ type: READY });
    load().catch(function (error) { console.warn("search index not loaded: " + error); });
  } else if (message.type === QUERY) {
    var query = String(message.data || "").trim();
    var mine = ++latest;
    if (timer !== null) clearTimeout(timer);
    if (query.replace(/[^\p{L}\p{N}]/gu, "").length < 2) {  // one letter would fetch much of the index
      postMessage({ type: RESULT, data: { items: [] } });
      return;
    }
    timer = setTimeout(function () {
      timer = null;
      search(query).then(function (results) {
        return items(results, SHOWN).then(function (found) {
          if (mine !== latest) return;
          postMessage({ type: RESULT, data: { items: found } });
          if (results.length > SHOWN) {
            return items(results, MORE).then(function (all) {
              if (mine === latest) postMessage({ type: RESULT, data: { items: all } });
            });
          }
        });
      }).catch(function (error) {
        console.warn("search failed: " + error);
        if (mine === latest) postMessage({ type: RESULT, data: { items: [] } });
      });
    }, QUIET);
  }
});
