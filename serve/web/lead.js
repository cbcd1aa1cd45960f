/* invscale lead page: progress, agreement, annotators, disagreements with
 * one-click adjudication, flags and links.  Refreshed every few seconds. */
'use strict';

(function () {
  var $ = IVS.$, el = IVS.el;

  function fmt(v, digits) { return v === null || v === undefined ? '–' : Number(v).toFixed(digits); }

  /* a statistic, or a dash with the reason it is undefined */
  function stat(dd, v, why) {
    IVS.clear(dd);
    if (v !== null && v !== undefined) { dd.textContent = fmt(v, 4); return; }
    dd.appendChild(document.createTextNode('–'));
    dd.appendChild(el('span', 'why', why || 'undefined'));
  }

  function cell(tr, text, cls) { var td = el('td', cls, text); tr.appendChild(td); return td; }

  function summary() {
    return IVS.api('GET', 'summary').then(function (s) {
      $('who').textContent = 'lead · batch ' + s.batch + ' · K = ' + s.per_item + ' · updated ' + new Date().toLocaleTimeString();
      $('items').textContent = String(s.items);
      $('complete').textContent = s.complete + ' (' + (s.items ? Math.round(100 * s.complete / s.items) : 0) + ' %)';
      $('adjudicated').textContent = String(s.adjudicated);
      var a = s.agreement;
      stat($('alpha'), a.alpha, a.alpha_undefined);
      stat($('fleiss'), a.fleiss_kappa, a.fleiss_kappa_undefined);
      $('coverage').textContent = 'items by judgments so far: ' +
        s.coverage.map(function (n, k) { return k + ': ' + n; }).join(' · ') + ' — ' + a.judgments + ' judgments by ' +
        a.annotators + ' annotators on ' + a.items + ' items';
      var tb = $('annotators').tBodies[0];
      IVS.clear(tb);
      s.annotators.forEach(function (r) {
        var tr = el('tr');
        cell(tr, r.name);
        cell(tr, r.done + ' / ' + r.assigned, 'num');
        cell(tr, fmt(r.median_seconds, 1), 'num');
        cell(tr, r.gold_accuracy === null ? '–' : fmt(r.gold_accuracy, 3) + ' (' + r.gold_judgments + ')', 'num');
        cell(tr, String(r.skipped), 'num');
        cell(tr, String(r.flagged), 'num');
        cell(tr, String(r.leases), 'num');
        tb.appendChild(tr);
      });
      var ul = $('flags');
      IVS.clear(ul);
      if (!s.flags.length) ul.appendChild(el('li', 'muted', 'no flags'));
      s.flags.forEach(function (f) {
        var li = el('li');
        li.appendChild(el('strong', null, 'item ' + f.item));
        li.appendChild(document.createTextNode(' · ' + f.annotator + ' · ' + f.created + ': '));
        var n = el('span', 'note');
        n.appendChild(IVS.visible(f.note || '', false));
        li.appendChild(n);
        ul.appendChild(li);
      });
    });
  }

  function adjudicate(item, label) {
    IVS.api('POST', 'adjudicate', { item: item, label: label }).then(function () {
      IVS.status('item ' + item + ': final label set', 'ok');
      refresh();
    }, function (e) { IVS.status('adjudication failed: ' + e.message, 'bad'); });
  }

  function disagreements() {
    return IVS.api('GET', 'disagreements?max=0.7').then(function (d) {
      var box = $('disagreements');
      IVS.clear(box);
      if (!d.items.length) box.appendChild(el('p', 'muted', 'none so far'));
      d.items.forEach(function (it) {
        var div = el('div', 'disagreement');
        var h = el('p', 'meta');
        h.appendChild(el('strong', null, 'item ' + it.item));
        h.appendChild(document.createTextNode(' · majority ' + Math.round(100 * it.confidence) + ' %' +
          (it.final ? ' · final: ' : '')));
        if (it.final) {
          var f = el('span', 'cls');
          f.appendChild(IVS.visible(it.final, true));
          h.appendChild(f);
          h.appendChild(document.createTextNode(' (' + it.final_method + ')'));
        }
        div.appendChild(h);
        var pre = el('pre', 'prompt small');
        pre.appendChild(IVS.visible(it.prompt, false));
        div.appendChild(pre);
        var votes = el('p', 'votes');
        it.judgments.forEach(function (j, i) {
          if (i) votes.appendChild(document.createTextNode(' · '));
          votes.appendChild(document.createTextNode(j.annotator + ': '));
          var c = el('span', 'cls');
          c.appendChild(IVS.visible(j.label, true));
          votes.appendChild(c);
        });
        div.appendChild(votes);
        var btns = el('p');
        it.classes.forEach(function (c) {
          var b = el('button', 'adjudicate');
          b.type = 'button';
          b.appendChild(document.createTextNode('final: '));
          var span = el('span', 'cls');
          span.appendChild(IVS.visible(c, true));
          b.appendChild(span);
          if (it.final === c) b.classList.add('was');
          b.addEventListener('click', function () { adjudicate(it.item, c); });
          btns.appendChild(b);
        });
        div.appendChild(btns);
        box.appendChild(div);
      });
    });
  }

  function linkAction(name, action) {
    IVS.api('POST', 'links', { annotator: name, action: action }).then(function (r) {
      if (r.link) {
        $('made-link').hidden = false;
        $('made-link-url').value = r.link;
        $('made-link-url').select();
      }
      IVS.status((name === null ? 'lead' : name) + ': ' + (action === 'new' ? 'new link made' : 'link revoked'), 'ok');
      links();
    }, function (e) { IVS.status('link change failed: ' + e.message, 'bad'); });
  }

  function links() {
    return IVS.api('GET', 'links').then(function (r) {
      var tb = $('links').tBodies[0];
      IVS.clear(tb);
      r.links.forEach(function (l) {
        var tr = el('tr');
        cell(tr, l.annotator === null ? 'lead (you)' : l.annotator);
        cell(tr, l.live ? 'live since ' + l.created : l.revoked ? 'revoked ' + l.revoked : 'no link');
        var td = cell(tr, '');
        var nb = el('button', null, l.live ? 'Replace' : 'Make a link');
        nb.type = 'button';
        nb.addEventListener('click', function () { linkAction(l.annotator, 'new'); });
        td.appendChild(nb);
        if (l.live && l.annotator !== null) {
          var rb = el('button', null, 'Revoke');
          rb.type = 'button';
          rb.addEventListener('click', function () { linkAction(l.annotator, 'revoke'); });
          td.appendChild(rb);
        }
        tb.appendChild(tr);
      });
    });
  }

  function refresh() {
    return Promise.all([summary(), disagreements()]).catch(function (e) {
      if (e.status === 401 || e.status === 403) IVS.problem('This link does not work as the lead\u2019s: ' + e.message);
      else IVS.status('cannot reach the server: ' + e.message, 'warn');
    });
  }

  $('new-link').addEventListener('click', function () {
    var n = $('new-name').value.trim();
    if (n) linkAction(n, 'new');
  });

  if (!IVS.token) {
    IVS.problem('This page needs the lead\u2019s link (it ends in #t=…).');
    return;
  }
  IVS.api('GET', 'session').then(function (s) {
    if (s.role !== 'lead') {
      IVS.problem('This is an annotator\u2019s link: open it as …/annotate#t=…');
      return;
    }
    refresh();
    links();
    setInterval(refresh, 5000);
  }, function (e) {
    IVS.problem(e.status === 401 ? 'This link is unknown or was revoked.' : 'Cannot reach the server: ' + e.message);
  });
})();
