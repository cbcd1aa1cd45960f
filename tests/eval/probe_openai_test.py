"""invscale probe with the openai: backend against a local OpenAI-compatible
server (fake_openai.py, started here on 127.0.0.1): the decoding options reach
the server as the completions API names them, every sample is the server's
completion for its (prompt, seed, index), seq-rep-4 and the loop detector agree
with an independent computation over the server's token texts, the verdict
reads the larger model's repetition, the cache makes a second run send nothing,
and a server that refuses n > 1 (or ignores it) gets one request per sample.
Usage: probe_openai_test.py INVSCALE_BINARY"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fake_openai  # noqa: E402

BIN = sys.argv[1]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


work = tempfile.mkdtemp()
os.chdir(work)
server, URL = fake_openai.start(work)


def stats():
    with urllib.request.urlopen(URL.replace("/v1", "/stats")) as r:
        return json.load(r)


prompts = ["List the planets:", "Here are ten reasons to buy", "1. apples\n2.", "Dear customer,", "The forum thread",
           "Enumerate the steps:", "Repeat after me: yes yes yes", "A review of the product"]
with open("prompts.jsonl", "w") as f:
    for p in prompts:
        f.write(json.dumps({"prompt": p, "group": "g"}) + "\n")
P, S, T = len(prompts), 3, 24


def run(models, out, *extra):
    args = [BIN, "probe", "prompts.jsonl", "--out", out, "--samples", str(S), "--max-new-tokens", str(T),
            "--metric", "repetition", "--metric", "length", "--stop", " again", "--temperature", "0.7",
            "--top-k", "40", "--top-p", "0.9", "--seed", "5", "--bootstrap", "200"]
    for name, model, params in models:
        args += ["--model", "%s=openai:%s@%s" % (name, URL, model), "--params", "%s=%s" % (name, params)]
    p = subprocess.run(args + list(extra), capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def lines(path):
    with open(path) as f:
        return [json.loads(x) for x in f]


def seq_rep(toks, n=4):
    grams = [tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)]
    return None if not grams else 1 - len(set(grams)) / len(grams)


def loop_of(toks):
    for p in range(1, 65):
        if 3 * p > len(toks):
            break
        tail = toks[len(toks) - 3 * p:]
        if all(tail[i] == tail[i + p] for i in range(len(tail) - p)):
            start = len(toks) - 3 * p
            while start > 0 and toks[start - 1] == toks[start - 1 + p]:
                start -= 1
            return {"period": p, "start": start, "repeats": (len(toks) - start) // p}
    return None


# 1. two models, n = 3 per request
code, out, err = run([("small", "toy-s", "1e8"), ("large", "toy-l", "1e9")], "r1")
check(code == 0, "probe with two openai: models (exit %d: %s)" % (code, err.strip()[:300]))
st = stats()
check(st["by_model"].get("toy-s") == P and st["by_model"].get("toy-l") == P,
      "one request per prompt with n = %d (%s)" % (S, st["by_model"]))
sent = [g for g in st["gen_params"]]
check(all(g["n"] == S and g["temperature"] == 0.7 and g["top_p"] == 0.9 and g["top_k"] == 40 and g["stop"] == [" again"]
          and g["max_tokens"] == T and isinstance(g["seed"], int) for g in sent),
      "n, temperature, top_p, top_k, stop and max_tokens are sent as the API names them")
seeds = {g["prompt"]: g["seed"] for g in sent}
check(len(set(seeds.values())) == P, "each prompt has its own seed")
for name, size in [("small", "s"), ("large", "l")]:
    got = lines("r1/%s.jsonl" % name)
    check(len(got) == P * S, "%s: %d generations (want %d)" % (name, len(got), P * S))
    same, metrics_ok = True, True
    for g in got:
        text, toks, fr, sr = fake_openai.generate(size, prompts[g["prompt_index"]], seeds[prompts[g["prompt_index"]]],
                                                  g["sample"], T, [" again"])
        same &= g["text"] == text and g["token_texts"] == toks and g["stop_reason"] == ("stop" if sr else "length")
        same &= g["tokens"] == len(toks) and g["ids"] is None
        metrics_ok &= g["metrics"]["seq_rep_4"] == seq_rep(toks) or abs(g["metrics"]["seq_rep_4"] - seq_rep(toks)) < 1e-12
        metrics_ok &= g["metrics"]["loop"] == loop_of(toks)
        metrics_ok &= g["metrics"]["stopped_at_limit"] == (fr == "length")
    check(same, "%s: every sample is the server's completion for its prompt, seed and index" % name)
    check(metrics_ok, "%s: seq_rep_4, the loop and the stop agree with an independent computation" % name)
summary = json.load(open("r1/summary.json"))
check([m["token_units"] for m in summary["models"]] == ["token_texts", "token_texts"],
      "summary.json says repetition counted over the server's token texts")
sr = [m for m in summary["metrics"] if m["name"] == "seq_rep_4"][0]
check(sr["trend"]["verdict"] == "inverse" and sr["models"][0]["mean"] < sr["models"][1]["mean"],
      "the larger model repeats more: inverse (%s)" % sr["trend"]["verdict"])
check("seq_rep_4" in out and "inverse" in out, "the verdict is printed")

# 2. the cache: nothing sent again, the same files
before = stats()["by_model"]
first = open("r1/large.jsonl").read()
code, out2, err = run([("small", "toy-s", "1e8"), ("large", "toy-l", "1e9")], "r1")
check(code == 0 and stats()["by_model"] == before, "a second run answers from the cache and sends nothing")
check(open("r1/large.jsonl").read() == first and out2 == out, "and writes and prints the same")

# 3. a server that refuses n > 1: one refused request, then one request per sample
code, out, err = run([("small", "toy-s", "1e8"), ("nosamp", "nsamp-m", "1e9")], "r3")
n3 = stats()["by_model"].get("nsamp-m")
check(code == 0, "n > 1 refused: the run still completes (exit %d: %s)" % (code, err.strip()[:300]))
check(n3 == 1 + P * S, "one refused request, then one per sample (%s, want %d)" % (n3, 1 + P * S))
got = lines("r3/nosamp.jsonl")
check(sorted((g["prompt_index"], g["sample"]) for g in got) == [(i, s) for i in range(P) for s in range(S)],
      "every sample is there")
single = [g for g in stats()["gen_params"] if g["n"] is None]
check(len({(g["prompt"], g["seed"]) for g in single}) == P * S, "each sample asked for with its own seed")

# 4. a server that ignores n (answers one choice): the rest asked for one at a time
code, out, err = run([("small", "toy-s", "1e8"), ("one", "onechoice-m", "1e9")], "r4")
n4 = stats()["by_model"].get("onechoice-m")
check(code == 0 and len(lines("r4/one.jsonl")) == P * S, "n ignored: every sample is there (exit %d)" % code)
check(n4 is not None and n4 <= P + P * (S - 1) and n4 >= P * S - 1,
      "the samples the server left out were asked for singly (%s requests)" % n4)

# 5. retries over 503 and 429, as for scoring
code, out, err = run([("small", "toy-s", "1e8"), ("flaky", "flaky-m", "1e9")], "r5", "--retries", "3")
check(code == 0 and len(lines("r5/flaky.jsonl")) == P * S, "503 then 429 are retried (exit %d: %s)" % (code, err.strip()[:200]))
check(stats()["by_model"].get("flaky-m") == 3 * P, "three attempts per request (%s)" % stats()["by_model"].get("flaky-m"))

# 6. a killed run resumes from the cache: only the missing samples are asked for
args = [BIN, "probe", "prompts.jsonl", "--out", "r6", "--samples", str(S), "--max-new-tokens", str(T), "--metric",
        "length", "--seed", "9", "--concurrency", "1", "--model", "a=openai:%s@lag-s" % URL, "--model",
        "b=openai:%s@toy-m" % URL, "--params", "a=1e8", "--params", "b=1e9"]
p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
cache = "r6/cache/lag-s.jsonl"
deadline = time.time() + 30
while time.time() < deadline and (not os.path.exists(cache) or sum(1 for _ in open(cache)) < 2 * S):
    time.sleep(0.05)
p.kill()
p.wait()
kept = sum(1 for _ in open(cache)) if os.path.exists(cache) else 0
before = stats()["by_model"].get("lag-s", 0)
code = subprocess.run(args, capture_output=True, text=True).returncode
sent = stats()["by_model"].get("lag-s", 0) - before
check(kept >= 2 * S and kept < P * S, "the killed run had cached %d samples" % kept)
check(code == 0 and sent == P - kept // S, "the resumed run asked only for the %d prompts left (sent %d)" % (P - kept // S, sent))
check(len(lines("r6/a.jsonl")) == P * S and not os.path.exists("r6/a.jsonl.tmp"), "and wrote every sample")

# 7. a server without logprobs: repetition counted over words, the length from usage
code, out, err = run([("small", "toy-s", "1e8"), ("nolp", "nolp-m", "1e9")], "r7", "--samples", "1")
summary = json.load(open("r7/summary.json")) if code == 0 else {"models": [{}, {}]}
check(code == 0 and summary["models"][1].get("token_units") == "words", "no token texts: repetition over words")
got = lines("r7/nolp.jsonl") if code == 0 else []
check(got and all(g["ids"] is None and "token_texts" not in g and g["tokens"] > 0 for g in got),
      "and the length from usage.completion_tokens")

# 8. a backend that does not generate is refused before anything is sent
with open("lp.jsonl", "w") as f:
    f.write('{"index":0,"class_logprobs":[-1,-2]}\n')
p = subprocess.run([BIN, "probe", "prompts.jsonl", "--out", "r5", "--metric", "length", "--model", "a=logprobs:lp.jsonl",
                    "--model", "b=openai:%s@toy-m" % URL, "--params", "a=1e8", "--params", "b=1e9"],
                   capture_output=True, text=True)
check(p.returncode == 2 and "does not generate" in p.stderr, "logprobs: is refused: %s" % p.stderr.strip()[:200])

server.terminate()
print("%d failures" % len(failures))
sys.exit(1 if failures else 0)
