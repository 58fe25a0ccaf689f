/* Small Models Atlas: the search worker behind Material's search box.
 *
 * Material's own worker builds a lunr index in the browser from search/search_index.json; at 10,000
 * papers that takes over a second before the first result. This worker speaks the same messages
 * (mkdocs-material 9.8: SETUP -> READY, QUERY -> RESULT) but builds no index: it keeps one
 * normalised string per document and scans them, which takes a few milliseconds at 10,000 papers.
 *
 * Matching: every query word is a prefix of a word of the document (case and accents ignored).
 * Ranking: documents with every word first; a word in the title counts more than one in the text;
 * a whole-word match counts more than a prefix. Titles and texts in the index are escaped HTML
 * (the search plugin escapes them); highlighting only wraps parts of that text in <mark>.
 */
"use strict";

var SETUP = 0, READY = 1, QUERY = 2, RESULT = 3;
var MAX_RESULTS = 500;
var docs = [];
var byLocation = new Map();

function fold(text) {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

function plain(html) {
  return html.replace(/<[^>]*>/g, " ").replace(/&lt;/g, "<").replace(/&gt;/g, ">")
    .replace(/&quot;/g, "\"").replace(/&#x27;/g, "'").replace(/&amp;/g, "&");
}

function words(text) {
  return " " + fold(text).replace(/[^\p{L}\p{N}]+/gu, " ").trim() + " ";
}

function setup(data) {
  docs = data.docs;
  byLocation = new Map();
  for (var i = 0; i < docs.length; i++) {
    var doc = docs[i];
    var path = doc.location.split("#")[0];
    var article = byLocation.get(path);
    if (article === undefined) {
      byLocation.set(path, doc);
    } else {
      byLocation.set(doc.location, doc);
      doc.parent = article;
    }
    doc._title = words(plain(doc.title || ""));
    doc._text = words(plain(doc.text || ""));
    doc._order = i;
  }
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/* Wrap matches of the query words in <mark>, in text outside tags and entities only. */
function highlight(html, pattern) {
  if (!pattern) return html;
  return html.split(/(<[^>]*>|&[#\w]+;)/).map(function (part) {
    return part.charAt(0) === "<" || part.charAt(0) === "&" ? part : part.replace(pattern, "<mark>$&</mark>");
  }).join("");
}

function search(query) {
  var terms = fold(query).replace(/[^\p{L}\p{N}\s]+/gu, " ").split(/\s+/).filter(Boolean);
  if (!terms.length) return { items: [] };
  var unique = Array.from(new Set(terms));
  var scored = [];
  for (var i = 0; i < docs.length; i++) {
    var doc = docs[i];
    var score = 0, found = 0, seen = {};
    for (var t = 0; t < unique.length; t++) {
      var term = unique[t], prefix = " " + term, whole = prefix + " ";
      var inTitle = doc._title.indexOf(prefix) !== -1;
      var inText = !inTitle && doc._text.indexOf(prefix) !== -1;
      seen[term] = inTitle || inText;
      if (!seen[term]) continue;
      found++;
      var exact = (inTitle ? doc._title : doc._text).indexOf(whole) !== -1;
      score += (inTitle ? 10 : 1) * (exact ? 2 : 1);
    }
    if (!found) continue;
    if (found === unique.length) score += 100;
    if (!doc.parent) score += 1;
    scored.push({ doc: doc, score: score, terms: seen });
  }
  scored.sort(function (a, b) { return b.score - a.score || a.doc._order - b.doc._order; });
  scored = scored.slice(0, MAX_RESULTS);
  var pattern = new RegExp(unique.map(escapeRegExp).join("|"), "gi");
  var groups = new Map();
  scored.forEach(function (hit) {
    var doc = hit.doc;
    var ref = doc.parent ? doc.parent.location : doc.location;
    var item = {
      location: doc.location,
      title: highlight(doc.title, pattern),
      text: highlight(doc.text, pattern),
      score: hit.score,
      terms: hit.terms
    };
    if (doc.tags) item.tags = doc.tags.slice();
    if (doc.parent) item.parent = { location: doc.parent.location, title: doc.parent.title, text: doc.parent.text };
    if (!groups.has(ref)) groups.set(ref, []);
    groups.get(ref).push(item);
  });
  groups.forEach(function (items, ref) {
    if (!items.some(function (item) { return item.location === ref; })) {
      var article = byLocation.get(ref);
      items.push({ location: article.location, title: article.title, text: article.text, score: 0, terms: {} });
    }
  });
  return { items: Array.from(groups.values()) };
}

addEventListener("message", function (event) {
  var message = event.data;
  if (message.type === SETUP) {
    setup(message.data);
    postMessage({ type: READY });
  } else if (message.type === QUERY) {
    var result;
    try {
      result = search(String(message.data || ""));
    } catch (error) {
      console.warn("search failed: " + error);
      result = { items: [] };
    }
    postMessage({ type: RESULT, data: result });
  }
});
