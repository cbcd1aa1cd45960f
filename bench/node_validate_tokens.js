// The tokenizer checks of `invscale validate --tokenizer`, written as a user
// would with Hugging Face's Rust tokenizers from Node (npm
// @anush008/tokenizers): per batch of rows, encodeBatch of the prompts, of
// every prompt + class and of every class (all cores, in Rust).  Prints the
// count of each rule and the percentiles of the longest prompt + class, for
// bench/validate to compare with invscale's.  Classification tasks only.
// Usage: node node_validate_tokens.js TOKENIZER.json TASK.jsonl [MAX_TOKENS=1023]
"use strict";
const fs = require("fs");
const readline = require("readline");
const { Tokenizer } = require("@anush008/tokenizers");

const [tokPath, taskPath, maxArg] = process.argv.slice(2);
const maxTokens = Number(maxArg || 1023);
const tok = Tokenizer.fromFile(tokPath);
const opts = { addSpecialTokens: false };
const counts = { examples: 0, "token-boundary": 0, "same-first-token": 0, "max-tokens": 0 };
const longest = [];

async function check(rows) {
  const prompts = rows.map((r) => r.prompt);
  const joint = [], classes = [];
  for (const r of rows) for (const c of r.classes) joint.push(r.prompt + c), classes.push(c);
  const [p, j, c] = await Promise.all([
    tok.encodeBatch(prompts, opts), tok.encodeBatch(joint, opts), tok.encodeBatch(classes, opts),
  ]);
  let k = 0;
  rows.forEach((r, i) => {
    const pids = p[i].getIds();
    let top = 0;
    const firsts = new Set();
    let same = false;
    for (let n = 0; n < r.classes.length; n++, k++) {
      const jids = j[k].getIds(), cn = c[k].getIds().length;
      let ok = jids.length === pids.length + cn;
      for (let t = 0; ok && t < pids.length; t++) ok = jids[t] === pids[t];
      if (!ok) counts["token-boundary"]++;
      top = Math.max(top, jids.length);
      const first = cn && cn <= jids.length ? jids[jids.length - cn] : -1;
      if (first >= 0 && firsts.has(first)) same = true;
      firsts.add(first);
    }
    if (same) counts["same-first-token"]++;
    if (top > maxTokens) counts["max-tokens"]++;
    longest.push(top);
    counts.examples++;
  });
}

async function main() {
  const rl = readline.createInterface({ input: fs.createReadStream(taskPath), crlfDelay: Infinity });
  let batch = [];
  for await (const line of rl) {
    if (!line) continue;
    const o = JSON.parse(line);
    batch.push({ prompt: o.prompt, classes: o.classes });
    if (batch.length === 2000) await check(batch), (batch = []);
  }
  if (batch.length) await check(batch);
  longest.sort((a, b) => a - b);
  const at = (q) => longest[Math.floor(((longest.length - 1) * q) / 100)];
  console.log(JSON.stringify({ ...counts, longest: { p50: at(50), p90: at(90), p99: at(99), max: at(100) } }));
}
main();
