#!/usr/bin/env node
/* The annotation pages in a real browser: Debian's chromium driven by npm
 * playwright-core (no browser download), against `invscale serve` started
 * here.  A whole batch done with the keyboard only, undo, skip and flag,
 * reload resumes, two annotators at once, the network cut during a submit
 * (stored once), prompts from an XSS corpus shown as literal text with
 * nothing executed, the lead's numbers equal to `invscale agreement`'s and a
 * one-click adjudication.  What is stored is checked in SQLite (the sqlite3
 * program), never in the page.  With SCREENSHOTS=DIR the two pages are
 * saved there (docs/serve_annotate.png, docs/serve_lead.png).
 *
 * usage: browser_test.js INVSCALE */
'use strict';
const { spawn, execFileSync } = require('child_process');
let server = null; /* killed on the way out, whatever happens */
process.on('exit', () => { if (server && server.exitCode === null) server.kill('SIGKILL'); });
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');

const BIN = process.argv[2];
const ROOT = path.join(__dirname, '..', '..');
const { chromium } = require(path.join(ROOT, 'node_modules', 'playwright-core'));
const CHROMIUM = process.env.IVS_CHROMIUM || '/usr/bin/chromium';

const failures = [];
function check(cond, what) {
  if (!cond) {
    failures.push(what);
    console.log('FAIL: ' + what);
  }
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ivs-browser-'));
const db = path.join(work, 's.db');
const env = Object.assign({}, process.env, { INVSCALE_DB: db, LC_ALL: 'C.UTF-8' });
function ivs(args) { return execFileSync(BIN, args, { env, encoding: 'utf8' }); }
function sql(q) {
  const out = execFileSync('sqlite3', ['-json', db, q], { encoding: 'utf8' }).trim();
  return out ? JSON.parse(out) : [];
}

/* the XSS corpus: each must be shown as the literal text it is */
const XSS = [
  '<script>window.__xss = 1; alert(1)</script> Is this a question?',
  '<img src=x onerror="window.__xss = 2; alert(2)"> What does the image say?',
  '<a href="javascript:window.__xss=3">click me</a> and answer',
  'Entities stay entities: &amp; &lt;b&gt;bold&lt;/b&gt; &#x3C;script&#x3E;',
  'Right-to-left override: \u202Eevil.exe\u202C and a zero\u200Bwidth space',
  '  Two leading spaces,\n\ttab-indented line,\n\n  and trailing spaces   ',
  '<svg onload="window.__xss=4"><style>body{display:none}</style>',
  'Plain question: is water wet?',
];
const INVISIBLE = /[\u200B\u202C\u202E]/;

async function main() {
  ivs(['init']);
  const rows = XSS.map((p) => JSON.stringify({ prompt: p, classes: [' Yes', ' No'] }));
  rows.push(JSON.stringify({ prompt: 'Gold: is 2 + 2 = 4?', classes: [' Yes', ' No'], answer_index: 0 }));
  fs.writeFileSync(path.join(work, 'items.jsonl'), rows.join('\n') + '\n');
  ivs(['ingest', 'jsonl', path.join(work, 'items.jsonl'), '--type', 'classification']);
  ivs(['annotator', 'add', 'alice']);
  ivs(['annotator', 'add', 'bob']);
  ivs(['batch', 'create', '--name', 'b1', '--per-item', '2', '--gold', '1', '--annotators', 'alice,bob', '--seed', '3']);
  fs.writeFileSync(path.join(work, 'guide.txt'), 'Answer Yes when the statement is true.\n\nFlag an item that cannot be answered.');

  const srv = spawn(BIN, ['serve', '--batch', 'b1', '--listen', '127.0.0.1:0', '--quiet', '--guidelines',
    path.join(work, 'guide.txt'), '--shuffle-classes'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  server = srv;
  let stderr = '';
  srv.stderr.on('data', (d) => { stderr += d; });
  const links = {};
  const rl = readline.createInterface({ input: srv.stdout });
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('the server did not start: ' + stderr)), 15000);
    rl.on('line', (line) => {
      const m = /^(\S+)\s+(http\S+#t=\S+)$/.exec(line.trim());
      if (m) links[m[1]] = m[2];
      if (line.startsWith('(Ctrl-C')) { clearTimeout(t); resolve(); }
    });
  });

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  const problems = [];
  async function page(ctx, who) {
    const p = await ctx.newPage();
    p.on('dialog', (d) => { problems.push(who + ': a dialog opened: ' + d.message()); d.dismiss(); });
    p.on('pageerror', (e) => problems.push(who + ': page error: ' + e.message));
    p.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource|ERR_INTERNET_DISCONNECTED|ERR_FAILED/.test(m.text())) problems.push(who + ': console: ' + m.text()); });
    return p;
  }
  const items = sql("SELECT e.id, e.prompt FROM batch_items bi JOIN examples e ON e.id = bi.example_id");
  const promptOf = {};
  items.forEach((r) => { promptOf[r.id] = r.prompt; });

  async function shownItem(p) {
    await p.waitForSelector('#work:not([hidden]) #item-id');
    const id = Number((await p.textContent('#item-id')).replace('item ', ''));
    return id;
  }
  async function checkShown(p, who) {
    const id = await shownItem(p);
    const text = await p.textContent('#prompt');
    const stored = promptOf[id];
    if (INVISIBLE.test(stored)) {
      const expect = Array.from(stored, (c) => INVISIBLE.test(c) ? 'U+' + c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0') : c).join('');
      check(text === expect, `${who}: item ${id}: invisible characters shown as codes: ${JSON.stringify(text)}`);
    } else {
      check(text === stored, `${who}: item ${id}: the prompt shown exactly as stored: ${JSON.stringify(text)} vs ${JSON.stringify(stored)}`);
    }
    const inner = await p.$$eval('#prompt *', (els) => els.filter((e) => !e.classList.contains('inv')).map((e) => e.tagName));
    check(inner.length === 0, `${who}: item ${id}: no element made from the prompt: ${inner}`);
    const cls = await p.$$eval('#classes .cls', (els) => els.map((e) => e.textContent));
    check(cls.length === 2 && cls.every((c) => c === '\u2423Yes' || c === '\u2423No'), `${who}: a class's leading space made visible: ${cls}`);
    return id;
  }
  async function waitSaved(p) {
    await p.waitForFunction(() => document.getElementById('status').textContent === 'saved', null, { timeout: 15000 });
  }

  // ---- alice: the whole batch with the keyboard only ----
  const ctxA = await browser.newContext({ viewport: { width: 1000, height: 760 } });
  const a = await page(ctxA, 'alice');
  await a.goto(links.alice);
  await a.waitForSelector('#guidelines:not([hidden])');
  check((await a.textContent('#guidelines-text')).includes('Answer Yes when the statement is true.'), 'the guidelines are shown before the first item');
  await a.keyboard.press('Enter');
  const total = sql("SELECT count(*) AS n FROM assignments x JOIN annotators a ON a.id = x.annotator_id WHERE a.name = 'alice'")[0].n;
  const seenA = [];
  let id = await checkShown(a, 'alice');
  if (process.env.SCREENSHOTS) await a.screenshot({ path: path.join(process.env.SCREENSHOTS, 'serve_annotate.png') });
  // 1: choose, 2: choose, then undo the second and choose again
  seenA.push(id);
  await a.keyboard.press('1');
  id = await checkShown(a, 'alice');
  check(id !== seenA[0], 'the next item follows a choice');
  seenA.push(id);
  const secondShown = await a.$$eval('#classes .cls', (els) => els.map((e) => e.textContent));
  await a.keyboard.press('2');
  await a.waitForFunction((prev) => document.getElementById('item-id').textContent !== 'item ' + prev, seenA[1]);
  await waitSaved(a);
  await a.keyboard.press('Backspace');
  await a.waitForFunction((prev) => document.getElementById('item-id').textContent === 'item ' + prev, seenA[1]);
  check((await a.textContent('#item-note')).includes('undone'), 'undo shows the last item again');
  const orderAgain = await a.$$eval('#classes .cls', (els) => els.map((e) => e.textContent));
  check(JSON.stringify(orderAgain) === JSON.stringify(secondShown), 'the stored class order is shown again');
  await a.keyboard.press('1');
  await waitSaved(a);
  const secondLabel = secondShown[0] === '\u2423Yes' ? ' Yes' : ' No';
  const firstLabel = secondShown[1] === '\u2423Yes' ? ' Yes' : ' No';
  const rev = sql(`SELECT j.label, (SELECT group_concat(h.label) FROM judgment_history h WHERE h.judgment_id = j.id) AS old
                   FROM judgments j JOIN annotators a ON a.id = j.annotator_id WHERE a.name = 'alice' AND j.example_id = ${seenA[1]}`);
  check(rev.length === 1 && rev[0].label === secondLabel && rev[0].old === firstLabel,
    `undo then a new choice: one judgment, revised, the old label in the history: ${JSON.stringify(rev)}`);
  // skip one, flag one (the keys are off while typing the note)
  id = await checkShown(a, 'alice');
  await a.keyboard.press('s');
  await a.waitForFunction((prev) => document.getElementById('item-id').textContent !== 'item ' + prev, id);
  const skipped = id;
  id = await checkShown(a, 'alice');
  await a.keyboard.press('f');
  await a.waitForSelector('#flag-box:not([hidden])');
  await a.keyboard.type('1s2 typed: the <i>wording</i> is odd');
  await a.keyboard.press('Enter');
  await a.waitForSelector('#flag-box', { state: 'hidden' });
  check(await shownItem(a) === id, 'a flag keeps the item (keys 1, s and 2 typed into the note did nothing)');
  await waitSaved(a);
  const flags = sql("SELECT example_id, note FROM item_marks WHERE kind = 'flag'");
  check(flags.length === 1 && flags[0].example_id === id && flags[0].note === '1s2 typed: the <i>wording</i> is odd', `the flag stored with its note: ${JSON.stringify(flags)}`);
  check(sql(`SELECT count(*) AS n FROM item_marks WHERE kind = 'skip' AND example_id = ${skipped}`)[0].n === 1, 'the skip stored');
  await a.keyboard.press('2');
  await waitSaved(a);
  // reload in the middle: resumes where alice stopped
  const before = await a.textContent('#progress');
  const doneBefore = sql("SELECT count(*) AS n FROM judgments j JOIN annotators a ON a.id = j.annotator_id WHERE a.name = 'alice'")[0].n;
  const shownBefore = await shownItem(a);
  await a.reload();
  id = await checkShown(a, 'alice');
  check(id === shownBefore, `reload shows the same item (its lease is alice's): ${id} vs ${shownBefore}`);
  const after = await a.textContent('#progress');
  check(after === before && before === `3 of ${total - 1}`, `reload keeps the progress: ${before} then ${after}`);
  check(doneBefore === 3, `three judgments stored so far: ${doneBefore}`);

  // ---- bob at the same time; the network cut during a submit ----
  const ctxB = await browser.newContext();
  const b = await page(ctxB, 'bob');
  await b.goto(links.bob);
  await b.waitForSelector('#guidelines:not([hidden])');
  await b.keyboard.press('Enter');
  const bobFirst = await checkShown(b, 'bob');
  // the answer to the first submit is lost after the server stored it
  let cut = 0;
  await b.route('**/api/v1/submit', async (route) => {
    if (cut++ === 0) {
      await route.fetch(); // reaches the server, which stores and answers
      await route.abort('connectionreset'); // ... but the page never sees the answer
    } else {
      await route.continue();
    }
  });
  await b.keyboard.press('1');
  await b.waitForFunction(() => /retrying/.test(document.getElementById('status').textContent), null, { timeout: 10000 });
  // and then the network goes away altogether for a moment
  await ctxB.setOffline(true);
  const bobSecond = await checkShown(b, 'bob');
  await b.keyboard.press('2');
  await b.waitForTimeout(1200);
  check(/retrying/.test(await b.textContent('#status')), 'offline: the page says retrying');
  const kept = await b.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('ivs:outbox')).map((k) => JSON.parse(localStorage[k]).length));
  check(kept.length === 1 && kept[0] >= 1, `unsent judgments kept in the page until acknowledged: ${kept}`);
  await ctxB.setOffline(false);
  await waitSaved(b);
  const once = sql(`SELECT j.example_id, count(*) AS n FROM judgments j JOIN annotators a ON a.id = j.annotator_id
                    WHERE a.name = 'bob' GROUP BY 1 ORDER BY 1`);
  check(once.length === 2 && once.every((r) => r.n === 1) && once.some((r) => r.example_id === bobFirst) && once.some((r) => r.example_id === bobSecond),
    `the submit whose answer was lost, retried, is stored once: ${JSON.stringify(once)}`);
  check(sql("SELECT count(*) AS n FROM submits s JOIN annotators a ON a.id = s.annotator_id WHERE a.name = 'bob'")[0].n === 2, 'two submit ids for bob');
  check(cut >= 2, 'the submit was retried');

  // ---- both finish the batch, alternately, keyboard only ----
  async function finish(p, who, key) {
    for (let n = 0; n < 20; n++) {
      const fin = await p.$('#finished:not([hidden])');
      if (fin) return;
      const it = await checkShown(p, who);
      await p.keyboard.press(key);
      await p.waitForFunction((prev) => {
        const f = document.getElementById('finished');
        return !f.hidden || document.getElementById('item-id').textContent !== 'item ' + prev;
      }, it, { timeout: 10000 });
    }
  }
  await Promise.all([finish(a, 'alice', '1'), finish(b, 'bob', '2')]);
  await waitSaved(a);
  await waitSaved(b);
  await a.waitForSelector('#finished:not([hidden])');
  await b.waitForSelector('#finished:not([hidden])');
  const perItem = sql(`SELECT bi.example_id, (SELECT count(*) FROM judgments j WHERE j.example_id = bi.example_id AND j.batch_id = bi.batch_id) AS n
                       FROM batch_items bi`);
  check(perItem.every((r) => r.n <= 2), 'no item over K');
  const judged = perItem.reduce((s, r) => s + r.n, 0);
  check(judged === 2 * perItem.length - 1, `every item judged by both but the one alice skipped: ${judged} of ${2 * perItem.length}`);
  check((await a.textContent('#progress')) === `${total - 1} of ${total - 1}`, `alice's progress at the end: ${await a.textContent('#progress')}`);
  const dupes = sql('SELECT example_id, annotator_id, count(*) AS n FROM judgments GROUP BY 1, 2 HAVING n > 1');
  check(dupes.length === 0, `never two judgments of one annotator on one item: ${JSON.stringify(dupes)}`);
  const guide = sql('SELECT DISTINCT guideline_id AS g FROM judgments');
  check(guide.length === 1 && guide[0].g === sql('SELECT id FROM guidelines')[0].id, 'the guideline version stored with each judgment');
  const orders = sql('SELECT count(*) AS n FROM class_orders')[0].n;
  check(orders >= perItem.length, `the shuffled class orders stored: ${orders}`);
  const xss = await Promise.all([a, b].map((p) => p.evaluate(() => window.__xss)));
  check(xss.every((v) => v === undefined), `nothing from the prompts executed: ${xss}`);

  // ---- the lead ----
  const ctxL = await browser.newContext({ viewport: { width: 1100, height: 1400 } });
  const l = await page(ctxL, 'lead');
  await l.goto(links.lead);
  await l.waitForFunction(() => document.getElementById('alpha').textContent !== '');
  const cli = JSON.parse(ivs(['agreement', '--batch', 'b1', '--format', 'json', '--bootstrap', '0']));
  const shownAlpha = await l.textContent('#alpha');
  check(cli.alpha === null || cli.alpha === undefined ? shownAlpha.startsWith('–') : shownAlpha === cli.alpha.toFixed(4),
    `the lead's alpha is invscale agreement's: ${shownAlpha} vs ${cli.alpha}`);
  const shownK = await l.textContent('#fleiss');
  check(cli.fleiss_kappa === null || cli.fleiss_kappa === undefined ? shownK.startsWith('–') : shownK === cli.fleiss_kappa.toFixed(4),
    `the lead's Fleiss kappa is invscale agreement's: ${shownK} vs ${cli.fleiss_kappa}`);
  const rowsL = await l.$$eval('#annotators tbody tr', (trs) => trs.map((tr) => Array.from(tr.cells, (c) => c.textContent)));
  check(rowsL.length === 2 && rowsL[0][0] === 'alice' && rowsL[0][5] === '1', `annotator rows: ${JSON.stringify(rowsL)}`);
  await l.waitForSelector('#disagreements .disagreement button.adjudicate');
  if (process.env.SCREENSHOTS) await l.screenshot({ path: path.join(process.env.SCREENSHOTS, 'serve_lead.png'), fullPage: true });
  const target = Number((await l.textContent('#disagreements .disagreement strong')).replace('item ', ''));
  await l.click('#disagreements .disagreement button.adjudicate >> nth=0');
  await l.waitForFunction(() => /final label set/.test(document.getElementById('status').textContent), null, { timeout: 10000 });
  const fin = sql(`SELECT label, method FROM final_labels WHERE example_id = ${target}`);
  check(fin.length === 1 && fin[0].method === 'adjudication', `one click adjudicates: ${JSON.stringify(fin)}`);
  const linksShown = await l.$$eval('#links tbody tr', (trs) => trs.length);
  check(linksShown === 3, `the lead sees the three links: ${linksShown}`);

  check(problems.length === 0, 'no dialog, page error or console error: ' + problems.join(' | '));
  await browser.close();
  srv.kill('SIGTERM');
  const code = await new Promise((res) => srv.on('exit', (c) => res(c)));
  check(code === 0, `the server stops cleanly: ${code}`);
  check(sql('PRAGMA integrity_check')[0].integrity_check === 'ok', 'integrity_check');
}

main().then(() => {
  fs.rmSync(work, { recursive: true, force: true });
  if (failures.length) {
    console.log(failures.length + ' checks failed');
    process.exit(1);
  }
  console.log('ok');
}, (e) => {
  console.log(e.stack || String(e));
  process.exit(1);
});
