"""A NUL character in a prompt (JSON \\u0000 in the task) survives a run:
through fake: and through an OpenAI-compatible server (fake_openai.py), the
prompt in labelled_data.jsonl is "...\\u0000..." and the server received the
NUL itself (not the bytes C0 80 invscale holds it as), and its offsets count
it as one character: the scores equal the prize formula over its tokens.
Usage: nul_test.py INVSCALE_BINARY"""
import json
import math
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
rows = [{"prompt": "Q%d: a\x00b%s? A:" % (i, "\x00" * (i % 2)), "classes": [" yes", " no"], "answer_index": i % 2}
        for i in range(6)]
rows.append({"prompt": "plain", "classes": [" yes", " no"], "answer_index": 0})
with open("task.jsonl", "w") as f:
    for r in rows:
        f.write(json.dumps(r) + "\n")  # \u0000 in the file


def labelled(out):
    with open(os.path.join(out, "labelled_data.jsonl"), "rb") as f:
        raw = f.read()
    check(b"\\u0000" in raw and b"\xc0\x80" not in raw, out + ": labelled_data.jsonl writes the NUL as \\u0000")
    got = [json.loads(line) for line in raw.decode("utf-8").splitlines()]
    check([g["prompt"] for g in got] == [r["prompt"] for r in rows], out + ": the prompts read back as in the task")
    return got


p = subprocess.run([BIN, "eval", "task.jsonl", "--out", "fake", "--model", "a=fake:1@1e8", "--model", "b=fake:2@1e9"],
                   capture_output=True, text=True)
check(p.returncode == 0, "fake: run: " + (p.stdout + p.stderr).strip())
if p.returncode == 0:
    labelled("fake")

port_file = os.path.join(work, "port")
server = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_openai.py"), port_file])
try:
    for _ in range(100):
        if os.path.exists(port_file):
            break
        time.sleep(0.05)
    URL = "http://127.0.0.1:%s/v1" % open(port_file).read()
    p = subprocess.run([BIN, "eval", "task.jsonl", "--out", "srv", "--model", "a=openai:%s@toy-s" % URL,
                        "--model", "b=openai:%s@toy-l" % URL, "--params", "a=1e8", "--params", "b=1e9",
                        "--retries", "0"], capture_output=True, text=True)
    check(p.returncode == 0, "openai: run: " + (p.stdout + p.stderr).strip())
    with urllib.request.urlopen(URL.replace("/v1", "/stats")) as r:
        st = json.load(r)
    n_nul = sum(len(r["classes"]) for r in rows if "\x00" in r["prompt"]) * 2
    check(st["nul_prompts"] == n_nul, "the server received %d prompts with a NUL (want %d)" % (st["nul_prompts"], n_nul))
    if p.returncode == 0:
        got = labelled("srv")
        worst = 0
        for g, r in zip(got, rows):
            lps = []
            for c in r["classes"]:
                toks = fake_openai.tokenize(r["prompt"] + c)
                lps.append(sum(fake_openai.token_logprob("s", t) for t, off in toks if off >= len(r["prompt"])))
            m = max(lps)
            loss = -(lps[r["answer_index"]] - (m + math.log(sum(math.exp(x - m) for x in lps))))
            worst = max(worst, abs(g["a_loss"] - loss))
        check(worst < 1e-9, "the losses equal the prize formula over the server's tokens (off by %g)" % worst)
finally:
    server.terminate()
    server.wait()
print("%d failures" % len(failures))
sys.exit(1 if failures else 0)
