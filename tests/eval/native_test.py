"""eval --model NAME=native:DIR.

1. The prize pipeline's results for the fixtures' 3-model family
   (family/expected.json, computed with transformers) are reproduced within
   1e-4 through native: with --tokenization separate (how the fixture encodes
   them), parameter counts from the weights, for the classification and the
   log-odds task.
2. The three tokenization semantics, each rebuilt here from its definition
   with `invscale lm tokenize` (exact against Hugging Face, tests/engine) and
   scored with `invscale lm score` (the plain forward, within 1e-4 of
   transformers): eval's total_logprob and loss agree within 1e-5 on prompts
   chosen so that the semantics differ (trailing spaces, merges across the
   boundary, an empty prompt), on a GPT-2 model and on OPT (its start token).
3. Bad input: a log-odds class of two tokens (names the example), a sequence
   over the context (names example and lengths) and --truncate left (counted
   in summary.json), a missing directory, a directory without tokenizer.json,
   a bad --tokenization/--cache-memory value.
Usage: native_test.py INVSCALE FIXTURES_HF_REFERENCE WORKDIR"""
import csv
import json
import math
import os
import shutil
import subprocess
import sys

invscale, ref, work = sys.argv[1:4]
models = os.path.join(ref, "models")
fam = os.path.join(ref, "family")
exp = json.load(open(os.path.join(fam, "expected.json")))
os.makedirs(work, exist_ok=True)
failures = checks = 0


def check(ok, what):
    global failures, checks
    checks += 1
    if not ok:
        print("FAIL:", what)
        failures += 1


def close(a, b, tol, what):
    check(abs(a - b) <= tol, f"{what}: {a!r} vs {b!r} (difference {abs(a - b):.3g} > {tol})")


def run(args, ok=True, stdin=None):
    p = subprocess.run([invscale] + args, capture_output=True, text=True, input=stdin)
    if ok and p.returncode != 0:
        print("command failed:", args, p.stderr)
        sys.exit(1)
    return p


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# 1. the family through native:
for kind in ("classification", "logodds"):
    out = os.path.join(work, "family-" + kind)
    args = ["eval", os.path.join(fam, kind + ".jsonl"), "--out", out, "--bootstrap", "100", "--tokenization", "separate"]
    for name in exp[kind]:
        args += ["--model", f"{name}=native:{os.path.join(models, name)}"]
    run(args)
    summary = json.load(open(os.path.join(out, "summary.json")))
    for mres in summary["models"]:
        name = mres["name"]
        check(mres["params"] == exp["n_params"][name], f"{name}: params {mres['params']} (expected {exp['n_params'][name]})")
        check(mres.get("tokenization") == "separate" and mres.get("truncate") == "none", f"{name}: tokenization recorded")
        rows = read_csv(os.path.join(out, name + ".csv"))
        for i, (row, want) in enumerate(zip(rows, exp[kind][name])):
            what = f"{kind} {name} example {i}"
            if kind == "classification":
                close(float(row["loss"]), want["loss"], 1e-4, what + " loss")
                close(float(row["total_logprob"]), want["total_logprob"], 1e-4, what + " total_logprob")
            else:
                close(float(row["logodds_difference"]), want["logodds_difference"], 1e-4, what + " logodds_difference")
            check(int(row["correct"]) == want["correct"], what + " correct")
        check(len(rows) == len(exp[kind][name]), f"{kind} {name}: {len(rows)} rows")


# 2. the semantics, rebuilt from their definitions
def tokenize(model, texts):
    p = run(["lm", "tokenize", model], stdin="".join(json.dumps({"text": t}) + "\n" for t in texts))
    return [json.loads(l)["ids"] for l in p.stdout.splitlines()]


def score(model, seqs):
    lines = "".join(json.dumps({"ids": ids, "n_ctx": k}) + "\n" for ids, k in seqs)
    p = run(["lm", "score", model, "--no-argmax"], stdin=lines)
    return [json.loads(l)["sum_logprob"] for l in p.stdout.splitlines()]


def expected(model, how, rows, start):
    """Per example the class log-probs, with the semantics' own definition."""
    seqs = []
    for r in rows:
        for c in r["classes"]:
            p = r["prompt"]
            if how == "separate":
                a, b = tokenize(model, [p, c])
                seqs.append((start + a + b, len(start) + len(a)))
            elif how == "prize":
                joint, cls = tokenize(model, [p + c, c])
                full = start + joint
                seqs.append((full, len(full) - len(cls)))
            else:  # lmeval
                ctx, cont = p.rstrip(), p[len(p.rstrip()):] + c
                if ctx == "":
                    seqs.append(([empty] + tokenize(model, [cont])[0], 1))
                else:
                    whole, cenc = tokenize(model, [ctx + cont, ctx])
                    seqs.append((whole, len(cenc)))
    lps = score(model, seqs)
    out, k = [], 0
    for r in rows:
        out.append(lps[k:k + len(r["classes"])])
        k += len(r["classes"])
    return out


rows = [
    {"prompt": "The answer is ", "classes": ["yes", "no"], "answer_index": 0},
    {"prompt": "Q: Is the sky blue?\nA:", "classes": [" Yes", " No"], "answer_index": 0},
    {"prompt": "Software licenses", "classes": ["'s terms", " are"], "answer_index": 1},
    {"prompt": "Copyright (C)  \n", "classes": ["2007", " Free Software"], "answer_index": 0},
    {"prompt": "permission", "classes": ["s", "ed", " to"], "answer_index": 2},
    {"prompt": "All rights ", "classes": ["reserved", "granted"], "answer_index": 0},
    {"prompt": "\n", "classes": ["The", " the program"], "answer_index": 0},
]
task = os.path.join(work, "semantics.jsonl")
with open(task, "w") as f:
    for r in rows:
        f.write(json.dumps(r) + "\n")
for mname, start in (("gpt2-m", []), ("opt", None)):
    model = os.path.join(models, mname)
    cfg = json.load(open(os.path.join(model, "config.json")))
    if start is None:
        start = [cfg["bos_token_id"]]  # OPT: its start token before every sequence
    empty = cfg.get("bos_token_id", cfg.get("eos_token_id"))
    for how in ("prize", "lmeval", "separate"):
        use = [r for r in rows if how != "prize" or r["prompt"] or start]  # prize: an empty prompt needs a start token
        if how == "separate" and not start:
            use = [r for r in use if r["prompt"]]
        with open(task, "w") as f:
            for r in use:
                f.write(json.dumps(r) + "\n")
        out = os.path.join(work, f"sem-{mname}-{how}")
        run(["eval", task, "--out", out, "--bootstrap", "50", "--tokenization", how, "--model", f"a=native:{model}",
             "--model", f"b=native:{model}", "--params", "a=1e6", "--params", "b=2e6"])
        want = expected(model, how, use, start if how != "lmeval" else [])
        got = read_csv(os.path.join(out, "a.csv"))
        for i, (g, w) in enumerate(zip(got, want)):
            m = max(w)
            total = m + math.log(sum(math.exp(x - m) for x in w))
            close(float(g["total_logprob"]), total, 1e-5, f"{mname} {how} example {i} total_logprob")
            close(float(g["loss"]), -(w[use[i]["answer_index"]] - total), 1e-5, f"{mname} {how} example {i} loss")
        summary = json.load(open(os.path.join(out, "summary.json")))
        check(summary["models"][0]["tokenization"] == how, f"{mname} {how}: recorded")
# the semantics do differ on these prompts (else the checks above prove little)
a = read_csv(os.path.join(work, "sem-gpt2-m-prize", "a.csv"))
b = read_csv(os.path.join(work, "sem-gpt2-m-separate", "a.csv"))
c = read_csv(os.path.join(work, "sem-gpt2-m-lmeval", "a.csv"))
check(sum(abs(float(x["total_logprob"]) - float(y["total_logprob"])) > 1e-3 for x, y in zip(a, b)) >= 2, "prize differs from separate")
check(sum(abs(float(x["total_logprob"]) - float(y["total_logprob"])) > 1e-3 for x, y in zip(a, c)) >= 1, "prize differs from lmeval")

# 3. bad input
gpt2 = os.path.join(models, "gpt2-s")
two = ["--model", f"a=native:{gpt2}", "--model", f"b=native:{gpt2}", "--params", "a=1e6", "--params", "b=2e6"]
bad = os.path.join(work, "bad.jsonl")
with open(bad, "w") as f:
    f.write(json.dumps({"prompt": "x", "other_prompt": "y", "classes": [" Yes", " permission granted"], "answer_index": 0}) + "\n")
p = run(["eval", bad, "--out", os.path.join(work, "bad"), "--type", "logodds"] + two, ok=False)
check(p.returncode != 0 and "example 0" in p.stderr and "one token" in p.stderr, "multi-token log-odds class: " + p.stderr)
long = os.path.join(work, "long.jsonl")
with open(long, "w") as f:
    f.write(json.dumps({"prompt": "Copyright and license terms " * 80, "classes": [" Yes", " No"], "answer_index": 0}) + "\n")
    f.write(json.dumps({"prompt": "short", "classes": [" Yes", " No"], "answer_index": 1}) + "\n")
p = run(["eval", long, "--out", os.path.join(work, "long")] + two, ok=False)
check(p.returncode != 0 and "example 0, class 0" in p.stderr and "context is 256" in p.stderr and "--truncate left" in p.stderr,
      "over the context: " + p.stderr)
p = run(["eval", long, "--out", os.path.join(work, "long"), "--truncate", "left"] + two, ok=False)
check(p.returncode == 0 and "cut on the left" in p.stderr, "--truncate left runs and warns: " + p.stderr)
if p.returncode == 0:
    s = json.load(open(os.path.join(work, "long", "summary.json")))
    check(s["models"][0]["truncate"] == "left" and s["models"][0]["truncated_requests"] == 2, "truncation recorded")
    # each truncated request scores as its last 257 tokens (the context of 256, and the last token) alone
    lps = []
    for c in (" Yes", " No"):
        full, cls = tokenize(gpt2, ["Copyright and license terms " * 80 + c, c])
        cut = full[-257:]
        lps.append(score(gpt2, [(cut, len(cut) - len(cls))])[0])
    m = max(lps)
    got = read_csv(os.path.join(work, "long", "a.csv"))
    close(float(got[0]["total_logprob"]), m + math.log(sum(math.exp(x - m) for x in lps)), 1e-5, "truncated example")
p = run(["eval", task, "--out", os.path.join(work, "x"), "--model", "a=native:/nonexistent/dir", "--model", f"b=native:{gpt2}"], ok=False)
check(p.returncode != 0 and "/nonexistent/dir" in p.stderr, "missing dir: " + p.stderr)
notok = os.path.join(work, "no-tokenizer")
shutil.rmtree(notok, ignore_errors=True)
os.makedirs(notok)
for fn in ("config.json", "model.safetensors"):
    os.symlink(os.path.join(gpt2, fn), os.path.join(notok, fn))
p = run(["eval", task, "--out", os.path.join(work, "x"), "--model", f"a=native:{notok}", "--model", f"b=native:{gpt2}",
         "--params", "a=1e6", "--params", "b=2e6"], ok=False)
check(p.returncode != 0 and "tokenizer.json" in p.stderr and "model 'a'" in p.stderr, "no tokenizer.json: " + p.stderr)
for opt, val in (("--tokenization", "joint"), ("--cache-memory", "lots"), ("--truncate", "right"), ("--threads", "0")):
    p = run(["eval", task, "--out", os.path.join(work, "x"), opt, val] + two, ok=False)
    check(p.returncode == 2 and opt in p.stderr, f"{opt} {val}: exit {p.returncode}: {p.stderr}")

print(f"{checks} checks, {failures} failures")
sys.exit(1 if failures else 0)
