"""The tasks of bench/engine, and the token ids the PyTorch side scores.

  engine_task.py gen DIR [--examples 200] [--fixtures ../shared/fixtures]
      writes DIR/zero2.jsonl, DIR/zero4.jsonl, DIR/shot2.jsonl (prize-format
      classification rows) and DIR/texts.jsonl (every prompt+class and every
      class as {"text"}, for `invscale lm tokenize`)
  engine_task.py seqs DIR          (after DIR/ids.jsonl = lm tokenize < texts.jsonl)
      writes DIR/<variant>.seqs.json: per example, per class, the ids of
      prompt+class tokenized jointly and the number of scored tokens at its end
      = len(tokenize(class)): the prize pipeline's semantics
  engine_task.py check DIR VARIANT OUTDIR MODEL TORCH.json [TORCH.json...]
      compares the class log-probs of invscale eval (OUTDIR/MODEL.csv) with
      each PyTorch result; prints the largest differences, exits 1 past 1e-3

The text is deterministic: sentences of GPT-2 vocabulary words (tokens
"Ġword", 3 to 9 lower-case letters) drawn by random.Random with fixed seeds,
so every machine writes the same files.  Prompts are about 150 tokens and end
in "Answer:"; classes are 1 to 3 such words with a leading space, and half of
the examples' classes share their first word (so the candidates have a common
token prefix past the prompt).  The 1-shot variant puts one 600-token
demonstration (a prompt of the same kind, its answer and a blank line) before
each of the zero-shot prompts."""
import argparse
import csv
import json
import math
import os
import random
import re
import sys

VARIANTS = {"zero2": 2, "zero4": 4, "shot2": 2}


def words(fixtures):
    vocab = json.load(open(os.path.join(fixtures, "gpt2-vocab", "vocab.json"), encoding="utf-8"))
    return [k[1:] for k, _ in sorted(vocab.items(), key=lambda kv: kv[1]) if re.fullmatch("\u0120[a-z]{3,9}", k)]


def passage(rng, w, n_words):
    out, left = [], n_words
    while left > 0:
        k = min(left, rng.randint(6, 14))
        s = [rng.choice(w) for _ in range(k)]
        out.append(" ".join([s[0].capitalize()] + s[1:]) + ".")
        left -= k
    return " ".join(out)


def prompt(rng, w, n_words):
    return passage(rng, w, n_words) + "\nQuestion: which words come next?\nAnswer:"


def classes(rng, w, n):
    first = rng.choice(w) if rng.random() < 0.5 else None
    out = []  # a list, not a set: the order may not depend on string hashing
    while len(out) < n:
        k = rng.randint(1, 3)
        c = [rng.choice(w) for _ in range(k)]
        if first is not None:
            c[0] = first
            if k == 1:
                c.append(rng.choice(w))
        c = " " + " ".join(c)
        if c not in out:
            out.append(c)
    return out


def gen(a):
    w = words(a.fixtures)
    rng = random.Random(12)
    prompts = [prompt(rng, w, 118) for _ in range(a.examples)]
    demo_rng = random.Random(600)
    demo = prompt(demo_rng, w, 495) + classes(demo_rng, w, 1)[0] + "\n\n"
    cls = {n: [classes(random.Random(1000 * n + i), w, n) for i in range(a.examples)] for n in (2, 4)}
    ans = random.Random(7)
    answers = {n: [ans.randrange(n) for _ in range(a.examples)] for n in (2, 4)}
    os.makedirs(a.dir, exist_ok=True)
    texts = open(os.path.join(a.dir, "texts.jsonl"), "w", encoding="utf-8")
    for v, n in VARIANTS.items():
        with open(os.path.join(a.dir, v + ".jsonl"), "w", encoding="utf-8") as f:
            for i, p in enumerate(prompts):
                p = demo + p if v.startswith("shot") else p
                f.write(json.dumps({"prompt": p, "classes": cls[n][i], "answer_index": answers[n][i]}) + "\n")
                for c in cls[n][i]:
                    texts.write(json.dumps({"text": p + c}) + "\n")
                    texts.write(json.dumps({"text": c}) + "\n")
    texts.close()


def rows(d, v):
    return [json.loads(line) for line in open(os.path.join(d, v + ".jsonl"), encoding="utf-8")]


def seqs(a):
    ids = iter(json.loads(line)["ids"] for line in open(os.path.join(a.dir, "ids.jsonl")))
    for v in VARIANTS:
        out = []
        for r in rows(a.dir, v):
            ex = []
            for _ in r["classes"]:
                full, cls_ids = next(ids), next(ids)
                ex.append([full, len(cls_ids)])
            out.append(ex)
        tokens = sum(len(s) for ex in out for s, _ in ex)
        prompt_tokens = [len(ex[0][0]) - ex[0][1] for ex in out]
        json.dump({"examples": out, "sequence_tokens": tokens}, open(os.path.join(a.dir, v + ".seqs.json"), "w"))
        print(f"{v}: {len(out)} examples, {len(out[0])} classes, prompts {min(prompt_tokens)}..{max(prompt_tokens)} "
              f"tokens (mean {sum(prompt_tokens) / len(out):.0f}), {tokens} tokens in all prompt+class sequences",
              file=sys.stderr)


def check(a):
    task = rows(a.dir, a.variant)
    # invscale writes loss = logsumexp(class lps) - lp[answer] and total_logprob = logsumexp
    with open(os.path.join(a.outdir, a.model + ".csv"), newline="") as f:
        got = list(csv.DictReader(f))
    worst = 0.0
    for path in a.torch:
        t = json.load(open(path))
        lps, first = t["logprobs"], t.get("first", 0)
        d_ans = d_tot = 0.0
        disagree = 0
        for j, lp in enumerate(lps):
            i = first + j
            row, r = got[i], task[i]
            m = max(lp)
            z = m + math.log(sum(math.exp(x - m) for x in lp))
            ans = lp[r["answer_index"]]
            d_ans = max(d_ans, abs((float(row["total_logprob"]) - float(row["loss"])) - ans))
            d_tot = max(d_tot, abs(float(row["total_logprob"]) - z))
            best = max(range(len(lp)), key=lambda k: lp[k])
            srt = sorted(lp)
            if row["predicted"] != r["classes"][best] and srt[-1] - srt[-2] > 1e-3:
                disagree += 1
        worst = max(worst, d_ans, d_tot)
        print(f"  {a.variant}: invscale vs {t['mode']} torch on {len(lps)} examples: log p(answer) within {d_ans:.1g}, "
              f"logsumexp of the classes within {d_tot:.1g}, predicted class differs in {disagree}")
        if disagree:
            worst = max(worst, 1.0)
    sys.exit(0 if worst <= 1e-3 else 1)


def check_all(a):
    """Per class: the rotated task (each example once per class, answer k) gives lp[k] = total - loss."""
    with open(os.path.join(a.outdir, a.model + ".csv"), newline="") as f:
        got = list(csv.DictReader(f))
    worst = 0.0
    for path in a.torch:
        t = json.load(open(path))
        k, d = 0, 0.0
        lps = t["logprobs"][: a.limit]
        for lp in lps:
            for c in range(len(lp)):
                row = got[k]
                d = max(d, abs(float(row["total_logprob"]) - float(row["loss"]) - lp[c]))
                k += 1
        worst = max(worst, d)
        print(f"  {a.variant}: every class of the first {len(lps)} examples, invscale vs {t['mode']} torch: within {d:.1g}")
    sys.exit(0 if worst <= 1e-3 else 1)


def rotate(a):
    """The first LIMIT examples of VARIANT, each once per class with answer_index = that class."""
    with open(os.path.join(a.dir, a.variant + ".rot.jsonl"), "w", encoding="utf-8") as f:
        for r in rows(a.dir, a.variant)[: a.limit]:
            for c in range(len(r["classes"])):
                f.write(json.dumps(dict(r, answer_index=c)) + "\n")


def logprobs(a):
    """A logprobs: file ({"index", "class_logprobs"} per example) from a PyTorch result; --rotate:
    for the rotated task (each of the first LIMIT examples once per class)."""
    t = json.load(open(a.torch))
    with open(a.out, "w") as f:
        i = 0
        for lp in t["logprobs"][: a.limit] if a.rotate else t["logprobs"]:
            for _ in range(len(lp) if a.rotate else 1):
                f.write(json.dumps({"index": i, "class_logprobs": lp}) + "\n")
                i += 1


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return (xs[(n - 1) // 2] + xs[n // 2]) / 2 if n else float("nan")


def report(a):
    """The table of a bench/engine run from its results file."""
    res = [json.loads(line) for line in open(a.results)]
    runs = max((r["run"] for r in res), default=0)

    def med(what, variant, key="seconds"):
        return median([r[key] for r in res if r["what"] == what and r["variant"] == variant and key in r])

    cfg = json.load(open(os.path.join(a.model, "config.json")))
    L, C, V, T = cfg["n_layer"], cfg["n_embd"], cfg["vocab_size"], cfg["n_positions"]
    params = V * C + T * C + 2 * C + L * (12 * C * C + 13 * C)
    wbytes = 4 * params
    per_token = 2 * L * C * 4  # K and V, float32
    loads = [r["load"] for r in res if "load" in r]
    print(f"model: GPT-2-124M shape, {params} parameters, f32 weights {wbytes / 1e6:.1f} MB; "
          f"{os.cpu_count()} cores; medians of {runs} runs; load average from other programs at the measurements: "
          f"median {median(loads):.1f}, {min(loads, default=0):.1f} to {max(loads, default=0):.1f}")
    if any(r["what"] == "prefill1" for r in res):
        p1, p3 = med("prefill1", "p512"), med("prefill3", "p512")
        one = (p3 - p1) / 2
        # the blocks' matrix products, attention as a full square (QK^T and AV), the head at one position
        flop = 2 * L * 12 * C * C * 512 + 4 * L * 512 * 512 * C + 2 * C * V
        # the machine's rate at its best: the highest of the runs (a VM's neighbours halve it at times)
        sgs = [r["value"] for r in res if r["what"] == "sgemm" and r["variant"] == "2048"]
        sg = max(sgs)
        tp = med("torch-prefill-forward", "p512", "value")
        print(f"prefill of 512 tokens: invscale {one:.2f} s ({512 / one:.0f} tokens/s, {flop / one / 1e9:.1f} GFLOP/s;"
              f" {p1:.2f} s for the whole program with loading), torch {tp:.2f} s ({512 / tp:.0f} tokens/s)")
        print(f"  sgemm 2048^3 {sg:.1f} GFLOP/s (the best of {len(sgs)} runs: {', '.join(f'{x:.0f}' for x in sgs)}): invscale's prefill runs at {100 * flop / one / 1e9 / sg:.0f}% of it "
              f"(target >= 60%); torch / invscale time {tp / one:.2f}x")
        if any(r["what"] == "sgemm-default" for r in res):
            print(f"  with OpenBLAS's own (fallback) kernels: sgemm {med('sgemm-default', '2048', 'value'):.1f} GFLOP/s;"
                  f" invscale without OPENBLAS_CORETYPE (it re-runs itself with the core the CPU allows): its whole"
                  f" prefill program {med('prefill1-default', 'p512'):.2f} s (against {p1:.2f} s)")
    if not any(r["what"] == "invscale" for r in res):
        return
    rows = {}
    for v in VARIANTS:
        sq = json.load(open(os.path.join(a.task, v + ".seqs.json")))
        n, tok = len(sq["examples"]), sq["sequence_tokens"]
        iv = med("invscale", v)
        bs, bt = med("torch-best-scoring", v, "value"), med("torch-best", v)
        pn = json.load(open(os.path.join(os.path.dirname(a.results), f"prize-{v}.json")))["examples"]
        ps = med("torch-prize-scoring", v, "value") / pn * n  # per example, scaled to the task
        rows[v] = (n, tok, iv, bs, bt, ps, pn)
        print(f"{v}: {n} examples, {len(sq['examples'][0])} classes, {tok} tokens in the prompt+class sequences")
        print(f"  invscale eval native:  {iv:7.1f} s  {n / iv:6.2f} examples/s  {tok / iv:7.0f} tokens/s"
              f"  (the whole run: loading, tokenizing, scoring, tables)")
        print(f"  torch best:            {bs:7.1f} s  {n / bs:6.2f} examples/s  {tok / bs:7.0f} tokens/s"
              f"  (scoring only; {bt:.1f} s with starting and loading)")
        print(f"  torch prize-style:     {ps:7.1f} s  {n / ps:6.2f} examples/s  {tok / ps:7.0f} tokens/s"
              f"  (scoring only, measured on {pn} examples, scaled to {n})")
        print(f"  invscale is {ps / iv:.1f}x the prize-style torch (target >= 8x), {bs / iv:.2f}x the best torch "
              f"(target >= 1.5x)")
        ic, bc, pc = med("invscale", v, "cpu"), med("torch-best", v, "cpu"), med("torch-prize", v, "cpu")
        print(f"  CPU seconds (user + system, whole processes): invscale {ic:.1f}, torch best {bc:.1f}, torch prize-style "
              f"{pc:.1f} for {pn} examples; CPU-time ratios {pc / pn * n / ic:.1f}x and {bc / ic:.2f}x")
        kept = 603 if v.startswith("shot") else 0
        kv = per_token * (512 + kept)
        print(f"  peak RSS: invscale {med('invscale', v, 'rss_kb') / 1e3:.0f} MB, torch best "
              f"{med('torch-best', v, 'rss_kb') / 1e3:.0f} MB, torch prize-style {med('torch-prize', v, 'rss_kb') / 1e3:.0f} MB;"
              f" f32 weights + K/V of 512 packed rows{' + the 603-token demonstration' if kept else ''}"
              f" = {(wbytes + kv) / 1e6:.0f} MB (target invscale <= 1.2x: {1.2 * (wbytes + kv) / 1e6:.0f} MB)")
    z, s = rows["zero2"][2], rows["shot2"][2]
    print(f"1-shot / zero-shot time, invscale: {s / z:.2f} (target <= 1.3); torch best {rows['shot2'][3] / rows['zero2'][3]:.2f},"
          f" torch prize-style {rows['shot2'][5] / rows['zero2'][5]:.2f}")
    print("PyTorch is given token ids made beforehand by invscale's tokenizer (not timed); invscale's time includes"
          " its tokenization")


ap = argparse.ArgumentParser()
sub = ap.add_subparsers(dest="cmd", required=True)
g = sub.add_parser("gen")
g.add_argument("dir")
g.add_argument("--examples", type=int, default=200)
g.add_argument("--fixtures", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "fixtures"))
s = sub.add_parser("seqs")
s.add_argument("dir")
for name in ("check", "check-all"):
    c = sub.add_parser(name)
    c.add_argument("dir")
    c.add_argument("variant")
    c.add_argument("outdir")
    c.add_argument("model")
    c.add_argument("torch", nargs="+")
    c.add_argument("--limit", type=int, default=10)
r = sub.add_parser("rotate")
r.add_argument("dir")
r.add_argument("variant")
r.add_argument("--limit", type=int, default=10)
lp = sub.add_parser("logprobs")
lp.add_argument("torch")
lp.add_argument("out")
lp.add_argument("--rotate", action="store_true")
lp.add_argument("--limit", type=int, default=10)
rp = sub.add_parser("report")
rp.add_argument("results")
rp.add_argument("task")
rp.add_argument("model")
a = ap.parse_args()
{"logprobs": logprobs, "report": report, "gen": gen, "seqs": seqs, "check": check, "check-all": check_all, "rotate": rotate}[a.cmd](a)
