// The registry site's one script (served from the site itself, as its Content-Security-Policy
// requires). The pages work without it: it adds search over search.json on the home page and
// the copy button of the install command. Everything it shows from the index is set as text
// (textContent), never as markup, and a name becomes a link only when it is a valid name.
'use strict';
(function () {
  var VALID_NAME = /^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$/;
  var SHOWN = 50;

  function copyButtons() {
    var buttons = document.querySelectorAll('button[data-copy]');
    Array.prototype.forEach.call(buttons, function (button) {
      var source = document.getElementById(button.getAttribute('data-copy'));
      var status = document.getElementById('copy-status');
      if (!source) return;
      button.hidden = false;
      button.addEventListener('click', function () {
        var text = source.textContent;
        var done = function () { if (status) status.textContent = 'Copied: ' + text; };
        var fallback = function () {
          var range = document.createRange();
          range.selectNodeContents(source);
          var selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
          var copied = false;
          try { copied = document.execCommand('copy'); } catch (e) { copied = false; }
          if (status) status.textContent = copied ? 'Copied: ' + text : 'Selected: press Ctrl+C to copy';
        };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(text).then(done, fallback);
        } else {
          fallback();
        }
      });
    });
  }

  function parseIndex(text) {
    var lines = text.split('\n');
    var packages = [];
    for (var i = 1; i < lines.length; i++) {
      if (!lines[i]) continue;
      var line;
      try { line = JSON.parse(lines[i]); } catch (e) { continue; }
      if (typeof line.name !== 'string' || !VALID_NAME.test(line.name)) continue;
      var description = typeof line.description === 'string' ? line.description : '';
      packages.push({
        name: line.name,
        version: String(line.version || ''),
        kind: typeof line.kind === 'string' ? line.kind : 'agent',
        description: description,
        haystack: description.toLowerCase()
      });
    }
    return packages;
  }

  // Name matches first (exact, then prefix, then anywhere), then description matches.
  function score(item, words) {
    var total = 0;
    for (var i = 0; i < words.length; i++) {
      var word = words[i];
      var at = item.name.indexOf(word);
      if (at === 0) total += item.name === word ? 0 : 1;
      else if (at > 0) total += 2;
      else if (item.haystack.indexOf(word) >= 0) total += 3;
      else return -1;
    }
    return total;
  }

  function item(entry) {
    var li = document.createElement('li');
    var link = document.createElement('a');
    link.href = 'packages/' + entry.name + '.html';
    link.textContent = entry.name;
    var meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent = ' ' + entry.kind + ' ' + entry.version;
    li.appendChild(link);
    li.appendChild(meta);
    if (entry.description) {
      var p = document.createElement('p');
      p.textContent = entry.description;
      li.appendChild(p);
    }
    return li;
  }

  function search() {
    var input = document.getElementById('search');
    var results = document.getElementById('results');
    var status = document.getElementById('search-status');
    var listing = document.getElementById('listing');
    if (!input || !results || !status) return;
    var index = null;
    var run = function () {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      if (words.length === 0) {
        results.hidden = true;
        if (listing) listing.hidden = false;
        status.textContent = index ? index.length + ' packages' : '';
        return;
      }
      if (!index) { status.textContent = 'Loading the index…'; return; }
      var hits = [];
      for (var i = 0; i < index.length; i++) {
        var s = score(index[i], words);
        if (s >= 0) hits.push([s, index[i]]);
      }
      hits.sort(function (a, b) { return a[0] - b[0] || (a[1].name < b[1].name ? -1 : 1); });
      var fragment = document.createDocumentFragment();
      for (var j = 0; j < hits.length && j < SHOWN; j++) fragment.appendChild(item(hits[j][1]));
      results.replaceChildren(fragment);
      results.hidden = false;
      if (listing) listing.hidden = true;
      status.textContent = hits.length === 0 ? 'No package matches.'
        : hits.length > SHOWN ? hits.length + ' matches; the first ' + SHOWN + ' are shown.'
        : hits.length + (hits.length === 1 ? ' match.' : ' matches.');
    };
    input.addEventListener('input', run);
    var query = new URLSearchParams(window.location.search).get('q');
    if (query) input.value = query;
    fetch('search.json', { credentials: 'same-origin' })
      .then(function (response) { if (!response.ok) throw new Error(String(response.status)); return response.text(); })
      .then(function (text) { index = parseIndex(text); document.body.setAttribute('data-index', 'loaded'); run(); })
      .catch(function () { status.textContent = 'Search is unavailable; every package is listed below.'; });
  }

  function siteUrl() {
    var url = new URL('.', window.location.href).href;
    Array.prototype.forEach.call(document.querySelectorAll('code.site-url'), function (code) {
      if (window.location.protocol === 'https:' || window.location.protocol === 'http:') {
        code.textContent = 'agents registry add NAME sparse+' + url;
      }
    });
  }

  copyButtons();
  search();
  siteUrl();
})();
