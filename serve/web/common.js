/* invscale annotation pages: what both pages share.  Text reaches the page
 * through textContent only; nothing is ever parsed as HTML. */
'use strict';

var IVS = (function () {
  var hash = /(?:^#|&)t=([A-Za-z0-9_-]+)/.exec(location.hash);
  var token = hash ? hash[1] : '';

  function $(id) { return document.getElementById(id); }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  /* Invisible and direction-changing characters, shown as a marked code. */
  var INVISIBLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u00a0\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8]/;

  function code(ch) {
    var h = ch.codePointAt(0).toString(16).toUpperCase();
    while (h.length < 4) h = '0' + h;
    return 'U+' + h;
  }

  /* A fragment showing s exactly: text nodes for the text, a marked span for
   * each invisible character; with edges, a leading or trailing space of s
   * (a class's " Yes") is shown as a visible mark too. */
  function visible(s, edges) {
    var f = document.createDocumentFragment();
    var run = '';
    var chars = Array.from(String(s));
    function flush() { if (run) { f.appendChild(document.createTextNode(run)); run = ''; } }
    for (var i = 0; i < chars.length; i++) {
      var c = chars[i];
      var edge = edges && (i === 0 || i === chars.length - 1);
      if (edge && c === ' ') {
        flush();
        var sp = el('span', 'ws', '\u2423');
        sp.title = 'a space';
        f.appendChild(sp);
      } else if (c === '\t' && edges) {
        flush();
        f.appendChild(el('span', 'ws', '\u21e5'));
      } else if (INVISIBLE.test(c)) {
        flush();
        var m = el('span', 'inv', code(c));
        m.title = 'an invisible character: ' + code(c);
        f.appendChild(m);
      } else {
        run += c;
      }
    }
    flush();
    return f;
  }

  function ApiError(status, message) {
    this.status = status;
    this.message = message;
  }

  /* A call of the API: resolves with the parsed answer, rejects with an
   * ApiError (status 0: the network failed). */
  function api(method, path, body) {
    var opts = { method: method, headers: { 'Authorization': 'Bearer ' + token }, cache: 'no-store',
                 credentials: 'omit', redirect: 'error' };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    return fetch('api/v1/' + path, opts).then(function (r) {
      return r.text().then(function (t) {
        var j = null;
        try { j = JSON.parse(t); } catch (e) { j = null; }
        if (!r.ok) throw new ApiError(r.status, j && j.error ? j.error : 'HTTP ' + r.status);
        if (!j) throw new ApiError(r.status, 'the answer is not JSON');
        return j;
      });
    }, function () { throw new ApiError(0, 'no connection'); });
  }

  function status(text, cls) {
    var s = $('status');
    if (!s) return;
    s.textContent = text;
    s.className = 'status ' + (cls || '');
  }

  function problem(text) {
    var p = $('problem');
    p.textContent = text;
    p.hidden = false;
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var a = new Uint8Array(16);
    crypto.getRandomValues(a);
    return Array.from(a, function (b) { return (b + 256).toString(16).slice(1); }).join('');
  }

  return { token: token, $: $, el: el, clear: clear, visible: visible, api: api, status: status,
           problem: problem, uuid: uuid, ApiError: ApiError };
})();
