/* invscale annotation page: one item at a time, keyboard first.  Every
 * choice goes to an outbox (kept in localStorage) with an id made here, and
 * leaves it only when the server has answered for it: a retried submit is
 * stored once. */
'use strict';

(function () {
  var $ = IVS.$, el = IVS.el;
  var session = null;
  var queue = [];          /* items handed out and not yet shown */
  var current = null;      /* the item shown */
  var shownAt = 0;
  var outbox = [];         /* submits not yet acknowledged */
  var sending = false;
  var retryDelay = 1000, retryTimer = null;
  var fetching = null;
  var progress = { done: 0, total: 0, median_seconds: null };
  var acked = 0;
  var undoChain = 0;       /* the item the last undo showed (0: none) */
  var stopped = false;
  var times = [];

  function key(name) { return 'ivs:' + name + ':' + session.batch + ':' + session.annotator; }

  function saveOutbox() {
    try { localStorage.setItem(key('outbox'), JSON.stringify(outbox)); } catch (e) { /* private mode: memory only */ }
  }

  function loadOutbox() {
    try {
      var o = JSON.parse(localStorage.getItem(key('outbox')) || '[]');
      if (Array.isArray(o)) outbox = o;
    } catch (e) { outbox = []; }
  }

  function pendingItems() {
    var s = {};
    outbox.forEach(function (o) { if (o.kind !== 'flag') s[o.item] = true; });
    return s;
  }

  /* ---- progress ---- */

  function showProgress() {
    var done = progress.done, total = progress.total;
    $('progress').textContent = done + ' of ' + total;
    var med = progress.median_seconds;
    if (times.length >= 3) {
      var t = times.slice().sort(function (a, b) { return a - b; });
      med = t[Math.floor(t.length / 2)];
    }
    var left = Math.max(0, total - done);
    if (med && left) {
      var s = Math.round(left * med);
      var txt = s < 90 ? s + ' s' : s < 5400 ? Math.round(s / 60) + ' min' : (s / 3600).toFixed(1) + ' h';
      $('timeleft').textContent = 'about ' + txt + ' left';
    } else {
      $('timeleft').textContent = '';
    }
  }

  function refreshProgress() {
    return IVS.api('GET', 'progress').then(function (p) { progress = p; showProgress(); }, function () {});
  }

  /* ---- sending ---- */

  function showSendState() {
    if (stopped) return;
    if (!outbox.length) IVS.status('saved', 'ok');
    else if (retryTimer) IVS.status('retrying… (' + outbox.length + ' not saved yet)', 'warn');
    else IVS.status('saving…', '');
  }

  function flush() {
    if (sending || stopped || !outbox.length) { showSendState(); return; }
    sending = true;
    showSendState();
    var batch = outbox.slice(0, 50);
    IVS.api('POST', 'submit', { submits: batch }).then(function (r) {
      sending = false;
      retryDelay = 1000;
      var done = {};
      r.results.forEach(function (res) {
        done[res.id] = true;
        var sub = batch.filter(function (b) { return b.id === res.id; })[0];
        if (res.status === 'refused') {
          IVS.problem('Not stored: item ' + res.item + ': ' + res.error);
        } else if (sub && (res.status === 'stored' || (res.status === 'repeat' && res.first === 'stored'))) {
          if (sub.kind === 'judgment') { progress.done++; acked++; }
          if (sub.kind === 'skip') progress.total = Math.max(progress.done, progress.total - 1); /* a skipped item is not yours to do */
        }
      });
      outbox = outbox.filter(function (o) { return !done[o.id]; });
      saveOutbox();
      showProgress();
      if (acked >= 10) { acked = 0; refreshProgress(); }
      if (outbox.length) flush();
      else showSendState();
      maybeFinished();
    }, function (e) {
      sending = false;
      if (e.status === 401 || e.status === 403) {
        stopped = true;
        IVS.status('stopped', 'bad');
        IVS.problem('This link no longer works (' + e.message + '). Your unsaved judgments are kept in this browser; ask the lead for a new link.');
        return;
      }
      if (e.status === 400 || e.status === 413 || e.status === 422) {
        /* the server will never take this request: drop its entries and say so */
        IVS.problem('Not stored: ' + e.message);
        outbox = outbox.slice(batch.length);
        saveOutbox();
        showSendState();
        return;
      }
      /* no connection, 429, 5xx: keep everything and try again */
      retryTimer = setTimeout(function () { retryTimer = null; flush(); }, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
      showSendState();
    });
  }

  function send(sub) {
    sub.id = IVS.uuid();
    outbox.push(sub);
    saveOutbox();
    flush();
  }

  /* ---- items ---- */

  function fetchMore() {
    if (fetching) return fetching;
    fetching = IVS.api('POST', 'next', { count: 3 }).then(function (r) {
      fetching = null;
      var have = pendingItems();
      if (current) have[current.item] = true;
      queue.forEach(function (q) { have[q.item] = true; });
      r.items.forEach(function (it) { if (!have[it.item]) { queue.push(it); have[it.item] = true; } });
      return r.items.length;
    }, function (e) {
      fetching = null;
      if (e.status === 401 || e.status === 403) {
        stopped = true;
        IVS.problem('This link no longer works: ' + e.message);
      } else {
        IVS.status('offline: retrying…', 'warn');
        return new Promise(function (res) { setTimeout(res, 2000); }).then(fetchMore);
      }
      return 0;
    });
    return fetching;
  }

  function render(it) {
    current = it;
    shownAt = Date.now();
    $('finished').hidden = true;
    $('work').hidden = false;
    $('item-id').textContent = 'item ' + it.item;
    $('item-note').textContent = it.label !== undefined && it.label !== null ? 'undone: choose again (it was the one marked)' : '';
    var p = $('prompt');
    IVS.clear(p);
    p.appendChild(IVS.visible(it.prompt, false));
    var ol = $('classes');
    IVS.clear(ol);
    it.classes.forEach(function (c, i) {
      var li = el('li');
      var b = el('button', 'choice');
      b.type = 'button';
      b.dataset.k = String(i + 1);
      if (i < 9) b.appendChild(el('kbd', null, String(i + 1)));
      var span = el('span', 'cls');
      span.appendChild(IVS.visible(c, true));
      b.appendChild(span);
      if (it.label === c) b.classList.add('was');
      b.addEventListener('click', function () { choose(i); });
      li.appendChild(b);
      ol.appendChild(li);
    });
  }

  var waitTimer = null;

  function maybeFinished() {
    if (!current && !queue.length && !fetching && !stopped) {
      $('work').hidden = true;
      $('finished').hidden = false;
      var more = progress.total > progress.done;
      $('finished-text').textContent = outbox.length ?
        'Nothing more to do; ' + outbox.length + ' judgments are still being saved: keep this page open.' :
        more ? 'The items left are being worked on by others; any that come back will show here.' :
        'There is nothing more for you in this batch. Thank you.';
      /* items leased to others come back when their leases run out */
      if (more && !waitTimer) {
        waitTimer = setTimeout(function () {
          waitTimer = null;
          refreshProgress().then(function () { if (!current) advance(); maybeFinished(); });
        }, 15000);
      }
    }
  }

  function advance() {
    current = null;
    if (queue.length) render(queue.shift());
    if (queue.length < 2) {
      fetchMore().then(function () {
        if (!current && queue.length) render(queue.shift());
        maybeFinished();
      });
    }
    if (!current) { $('work').hidden = true; }
  }

  function choose(i) {
    if (!current || i >= current.classes.length) return;
    /* choosing again on an undone item revises it: it counts once */
    if (current.label !== undefined && current.label !== null) progress.done++;
    var secs = (Date.now() - shownAt) / 1000;
    times.push(secs);
    send({ item: current.item, kind: 'judgment', label: current.classes[i], seconds: Math.round(secs * 1000) / 1000,
           guideline: session.guidelines.version });
    undoChain = 0;
    advance();
  }

  function skip() {
    if (!current) return;
    send({ item: current.item, kind: 'skip' });
    undoChain = 0;
    advance();
  }

  function openFlag() {
    if (!current) return;
    $('flag-box').hidden = false;
    $('flag-note').value = '';
    $('flag-note').focus();
  }

  function closeFlag() {
    $('flag-box').hidden = true;
    $('flag-note').blur();
  }

  function saveFlag() {
    if (!current) return closeFlag();
    send({ item: current.item, kind: 'flag', note: $('flag-note').value });
    closeFlag();
    IVS.status('flag noted', 'ok');
  }

  function undo() {
    if (stopped) return;
    if (outbox.length) {
      /* the judgment to undo must be stored first */
      IVS.status('saving before undo…', 'warn');
      flush();
      setTimeout(function () { if (!outbox.length) undo(); }, 300);
      return;
    }
    IVS.api('POST', 'undo', { before: undoChain }).then(function (r) {
      if (!r.items.length) { IVS.status('nothing to undo', ''); return; }
      var it = r.items[0];
      if (current) queue.unshift(current);
      queue = queue.filter(function (q) { return q.item !== it.item; });
      undoChain = it.item;
      progress.done = Math.max(0, progress.done - 1); /* until chosen again */
      showProgress();
      render(it);
      IVS.status('undone: choose again', '');
    }, function (e) { IVS.status('undo failed: ' + e.message, 'bad'); });
  }

  /* ---- guidelines ---- */

  function showGuidelines(first) {
    $('work').hidden = true;
    $('finished').hidden = true;
    $('guidelines').hidden = false;
    $('guidelines-version').textContent = session.guidelines.version ? '(version ' + session.guidelines.version + ')' : '';
    var g = $('guidelines-text');
    IVS.clear(g);
    var text = session.guidelines.text || 'No guidelines were given for this batch.';
    text.split(/\n{2,}/).forEach(function (para) {
      var p = el('p');
      p.appendChild(IVS.visible(para, false));
      g.appendChild(p);
    });
    $('start').textContent = first ? 'Start' : 'Back to the items';
    $('start').focus();
  }

  function hideGuidelines() {
    $('guidelines').hidden = true;
    try { localStorage.setItem(key('guidelines-seen'), String(session.guidelines.version)); } catch (e) {}
    if (current) $('work').hidden = false;
    else advance();
    maybeFinished();
  }

  /* ---- keys ---- */

  document.addEventListener('keydown', function (ev) {
    if (!session || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    var t = ev.target;
    var typing = t && (t.tagName === 'TEXTAREA' || t.tagName === 'INPUT');
    if (!$('flag-box').hidden) {
      if (ev.key === 'Escape') { ev.preventDefault(); closeFlag(); }
      else if (ev.key === 'Enter' && !ev.shiftKey) { ev.preventDefault(); saveFlag(); }
      return; /* every other key types into the note */
    }
    if (typing) return;
    if (!$('guidelines').hidden) {
      if (ev.key === 'Enter' || ev.key === 'g' || ev.key === 'Escape') { ev.preventDefault(); hideGuidelines(); }
      return;
    }
    if (ev.key >= '1' && ev.key <= '9') { ev.preventDefault(); choose(Number(ev.key) - 1); }
    else if (ev.key === 'Backspace') { ev.preventDefault(); undo(); }
    else if (ev.key === 's') { ev.preventDefault(); skip(); }
    else if (ev.key === 'f') { ev.preventDefault(); openFlag(); }
    else if (ev.key === 'g') { ev.preventDefault(); showGuidelines(false); }
  });

  $('start').addEventListener('click', hideGuidelines);
  $('skip').addEventListener('click', skip);
  $('flag').addEventListener('click', openFlag);
  $('flag-save').addEventListener('click', saveFlag);
  $('flag-cancel').addEventListener('click', closeFlag);
  $('show-guidelines').addEventListener('click', function () { showGuidelines(false); });
  window.addEventListener('online', flush);

  /* ---- start ---- */

  if (!IVS.token) {
    IVS.problem('This page needs the link you were given (it ends in #t=…).');
    return;
  }
  IVS.api('GET', 'session').then(function (s) {
    if (s.role !== 'annotator') {
      IVS.problem('This is the lead\u2019s link: open it as …/lead#t=…');
      return;
    }
    session = s;
    progress = s.progress;
    $('who').textContent = s.annotator + ' · batch ' + s.batch;
    showProgress();
    loadOutbox();
    flush();
    var seen = null;
    try { seen = localStorage.getItem(key('guidelines-seen')); } catch (e) {}
    if (s.guidelines.text && seen !== String(s.guidelines.version)) showGuidelines(true);
    else advance();
  }, function (e) {
    IVS.problem(e.status === 401 ? 'This link is unknown or was revoked: ask the lead for a new one.' : 'Cannot reach the server: ' + e.message);
  });
})();
