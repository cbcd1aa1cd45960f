"""The openai: backend against a local OpenAI-compatible server
(fake_openai.py, started here on 127.0.0.1): scores equal the prize formula
over the server's token log-probs, the cache makes a second run send
nothing and lets a killed run resume, retries ride out 503/429, a server
that wants max_tokens >= 1 is served, and every bad case of the issue fails
with a clear message and the right exit status.
Usage: openai_test.py INVSCALE_BINARY"""
import csv
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import fake_openai  # noqa: E402  (its tokenizer and log-prob function are the "model")

BIN = sys.argv[1]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


work = tempfile.mkdtemp()
os.chdir(work)
port_file = os.path.join(work, "port")
server = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_openai.py"), port_file])
for _ in range(100):
    if os.path.exists(port_file):
        break
    time.sleep(0.05)
URL = "http://127.0.0.1:%s/v1" % open(port_file).read()


def stats():
    with urllib.request.urlopen(URL.replace("/v1", "/stats")) as r:
        return json.load(r)["by_model"]


def run(models, out, *extra, env=None):
    args = [BIN, "eval", "task.jsonl", "--out", out]
    for name, model in models:
        args += ["--model", "%s=openai:%s@%s" % (name, URL, model)]
    args += ["--params", "a=1e8", "--params", "b=1e9", "--params", "c=1e10"] + list(extra)
    p = subprocess.run(args, capture_output=True, text=True, env=env)
    return p.returncode, p.stdout, p.stderr


# Prompts with non-ASCII text (offsets count characters, not bytes), classes
# of one and several tokens, 2 to 4 classes.
rows = []
words = ["café", "naïve", "über", "😀", "data", "scale", "model", "tokyo", "東京"]
for i in range(40):
    prompt = "Q%d: is %s %s? A:" % (i, words[i % 9], words[(i * 7) % 9])
    k = 2 + i % 3
    classes = [" yes", " no", " maybe not", " 東京 " + words[i % 9]][:k]
    rows.append({"prompt": prompt, "classes": classes, "answer_index": i % k})
with open("task.jsonl", "w", encoding="utf-8") as f:
    for r in rows:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
n_requests = sum(len(r["classes"]) for r in rows)


def expected_loss(row, size):
    lps = []
    for c in row["classes"]:
        text = row["prompt"] + c
        toks = fake_openai.tokenize(text)
        lps.append(sum(fake_openai.token_logprob(size, t) for t, off in toks if off >= len(row["prompt"])))
    m = max(lps)
    lse = m + math.log(sum(math.exp(x - m) for x in lps))
    return lse - lps[row["answer_index"]]


def losses(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [float(r["loss"]) for r in csv.DictReader(f)]


# 1. scores, three models, then the cache
code, out, err = run([("a", "toy-s"), ("b", "toy-m"), ("c", "toy-l")], "r1")
check(code == 0, "three toy models score (exit %d: %s)" % (code, err.strip()))
for name, size in [("a", "s"), ("b", "m"), ("c", "l")]:
    got = losses("r1/%s.csv" % name)
    want = [expected_loss(r, size) for r in rows]
    worst = max(abs(g - w) for g, w in zip(got, want))
    check(len(got) == len(rows) and worst < 1e-9, "model %s: %d losses equal the prize formula (max diff %.2g)" % (name, len(got), worst))
before = stats()
check(before.get("toy-s") == n_requests, "one request per class and example (%s, want %d)" % (before.get("toy-s"), n_requests))
code, out2, err = run([("a", "toy-s"), ("b", "toy-m"), ("c", "toy-l")], "r1")
check(code == 0 and stats() == before, "a second run answers from the cache and sends nothing")
check(out2 == out, "and prints the same verdict")

# 2. a killed run resumes: kill the first run part way, then finish
args = [BIN, "eval", "task.jsonl", "--out", "r2", "--concurrency", "1", "--model", "a=openai:%s@lag-s" % URL,
        "--model", "b=openai:%s@toy-m" % URL, "--params", "a=1e8", "--params", "b=1e9", "--timeout", "10"]
p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
cache = "r2/cache/lag-s.jsonl"
deadline = time.time() + 30
while time.time() < deadline and (not os.path.exists(cache) or sum(1 for _ in open(cache)) < 5):
    time.sleep(0.1)
p.send_signal(signal.SIGKILL)
p.wait()
kept = sum(1 for _ in open(cache)) if os.path.exists(cache) else 0
check(kept >= 5, "the killed run had cached %d answers" % kept)
sent_before = stats().get("lag-s", 0)
code = subprocess.run(args + ["--concurrency", "8"], capture_output=True, text=True).returncode
sent = stats().get("lag-s", 0) - sent_before
check(code == 0 and sent == n_requests - kept, "the resumed run sent only the %d missing requests (sent %d)" % (n_requests - kept, sent))

# 3. retries over 503 and 429 (Retry-After: 0), and a server that needs max_tokens >= 1
code, out, err = run([("a", "toy-s"), ("b", "flaky-m")], "r3", "--retries", "3")
check(code == 0, "503 then 429 are retried (exit %d: %s)" % (code, err.strip()))
check(losses("r3/b.csv") == losses("r1/b.csv"), "and the retried answers score the same")
check(stats().get("flaky-m") == 3 * n_requests, "each flaky request took three attempts")
code, out, err = run([("a", "toy-s"), ("b", "strict-m")], "r4")
check(code == 0 and losses("r4/b.csv") == losses("r1/b.csv"), "max_tokens 1 where 0 is refused; the generated token is dropped")
check(stats().get("strict-m") == n_requests + 1, "one refused request, then max_tokens 1 for all (%s)" % stats().get("strict-m"))


# 4. bad cases: exit status and message
def bad(models, out, want_code, want_text, *extra, env=None):
    code, _, err = run(models, out, *extra, env=env)
    check(code == want_code and want_text in err, "%s: exit %d, says '%s' (got %d: %s)" % (out, want_code, want_text, code, err.strip()[:300]))


bad([("a", "toy-s"), ("b", "badjson-m")], "bad-json", 1, "the response is not JSON")
bad([("a", "toy-s"), ("b", "drop-m")], "bad-drop", 1, "transfer closed", "--retries", "1")
check(stats().get("drop-m") == 2, "a dropped connection is retried once with --retries 1 (%s)" % stats().get("drop-m"))
env = dict(os.environ)
env.pop("OPENAI_API_KEY", None)
bad([("a", "toy-s"), ("b", "auth-m")], "bad-auth", 2, "HTTP 401 Unauthorized: Incorrect API key provided", env=env)
check(stats().get("auth-m") == 1, "HTTP 401 is not retried: one request (%s)" % stats().get("auth-m"))
env["MY_KEY"] = "sekrit"
code, _, err = run([("a", "toy-s"), ("b", "auth-m")], "ok-auth", "--api-key-env", "MY_KEY", env=env)
check(code == 0, "the key from --api-key-env is sent (exit %d: %s)" % (code, err.strip()))
bad([("a", "toy-s"), ("b", "auth-m")], "bad-env", 2, "--api-key-env NOPE_UNSET: that variable is not set", "--api-key-env", "NOPE_UNSET")
bad([("a", "toy-s"), ("b", "slow-m")], "bad-slow", 1, "timed out", "--timeout", "0.3", "--retries", "1")
code, _, err = subprocess.run([BIN, "eval", "task.jsonl", "--out", "bad-unreach", "--retries", "1", "--model",
                               "a=openai:http://127.0.0.1:1/v1@toy-s", "--model", "b=openai:%s@toy-m" % URL,
                               "--params", "a=1e8", "--params", "b=1e9"], capture_output=True, text=True).returncode, None, None
check(code == 1, "an unreachable server fails with exit 1")
bad([("a", "toy-s"), ("b", "nosuch")], "bad-model", 1, "does not exist")
bad([("a", "toy-s"), ("b", "noecho-m")], "bad-noecho", 1, "no log-probabilities for the prompt's own tokens")
bad([("a", "toy-s")], "bad-one", 2, "at least two models")
bad([("a", "toy-s"), ("a", "toy-m")], "bad-dup", 2, "given twice")
args = [BIN, "eval", "task.jsonl", "--out", "bad-spec", "--model", "a=openai:127.0.0.1:8000", "--model", "b=openai:%s@toy-m" % URL]
p = subprocess.run(args, capture_output=True, text=True)
check(p.returncode == 2 and "expected openai:http://HOST:PORT/v1@MODEL_ID" in p.stderr, "a malformed openai: spec is a usage error")
# a class that does not start on a token boundary (no leading space)
with open("task.jsonl", "w", encoding="utf-8") as f:
    f.write(json.dumps({"prompt": "Say it:", "classes": [" yes", "no"], "answer_index": 0}) + "\n")
bad([("a", "toy-s"), ("b", "toy-m")], "bad-boundary", 1, "example 0, class 1: text 'no' did not start on a token boundary")

server.terminate()
print("%d failures" % len(failures))
sys.exit(1 if failures else 0)
