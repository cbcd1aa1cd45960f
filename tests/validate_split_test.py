"""`validate` reads JSONL files of 32 MiB and more in two halves at once.
This checks, on ~34 MB files, that every output (diagnostics in order,
statistics, exit status, text and JSON) equals the one-pass reading
(INVSCALE_ONE_PASS=1) for a clean file and for files whose second half holds
what the halves must agree on: a duplicate or conflicting answer of a
first-half line, a prompt repeated with other classes, a warning, invalid
JSON, a \\u0000 escape, invalid UTF-8 (in either half).
Usage: validate_split_test.py INVSCALE_BINARY"""
import json
import os
import subprocess
import sys
import tempfile

BIN = sys.argv[1]
work = tempfile.mkdtemp()
words = ["alpha", "beta", "gamma", "delta", "scale", "model", "café", "inverse", "memo", "trap"]
lines = []
for i in range(84000):
    prompt = "Q%d: " % i + " ".join(words[(i * k) % 10] for k in range(1, 60)) + " A:"
    k = 2 + i % 3
    lines.append(json.dumps({"prompt": prompt, "classes": [" yes", " no", " maybe", " never"][:k], "answer_index": i % k},
                            ensure_ascii=False).encode())
n = len(lines)
first = json.loads(lines[0])


def variant(name, edit):
    ls = list(lines)
    edit(ls)
    path = os.path.join(work, name + ".jsonl")
    with open(path, "wb") as f:
        f.write(b"\n".join(ls) + b"\n")
    assert os.path.getsize(path) >= 32 << 20, "too small to be split"
    return path


def rec(**kw):
    return json.dumps(kw, ensure_ascii=False).encode()


cases = {
    "clean": lambda ls: None,
    "dup_across": lambda ls: ls.append(lines[0]),
    "conflict_across": lambda ls: ls.append(rec(prompt=first["prompt"], classes=first["classes"], answer_index=1)),
    "other_classes_across": lambda ls: ls.append(rec(prompt=first["prompt"], classes=[" no", " yes", " x"], answer_index=0)),
    "warning_first": lambda ls: ls.__setitem__(200, rec(prompt="early", classes=["yes", " no"], answer_index=0)),
    "warning_second": lambda ls: ls.__setitem__(n - 100, rec(prompt="late", classes=["yes", " no"], answer_index=0)),
    "bad_json_second": lambda ls: ls.__setitem__(n - 50, b'{"prompt": "broken'),
    "nul_second": lambda ls: ls.__setitem__(n - 60, b'{"prompt": "a\\u0000b", "classes": [" a", " b"], "answer_index": 0}'),
    "utf8_first": lambda ls: ls.__setitem__(100, b'{"prompt": "bad \xff byte", "classes": [" a", " b"], "answer_index": 0}'),
    "utf8_second": lambda ls: ls.__setitem__(n - 10, b'{"prompt": "bad \xff byte", "classes": [" a", " b"], "answer_index": 0}'),
    "dup_within_second": lambda ls: ls.append(lines[n - 5]),
}
failures = 0
for name, edit in cases.items():
    path = variant(name, edit)
    for fmt in ("text", "json"):
        args = [BIN, "validate", "--min-examples", "0", "--format", fmt, path]
        split = subprocess.run(args, capture_output=True)
        env = dict(os.environ, INVSCALE_ONE_PASS="1")
        one = subprocess.run(args, capture_output=True, env=env)
        same = split.stdout == one.stdout and split.stderr == one.stderr and split.returncode == one.returncode
        diags = split.stdout.count(b"\n")
        if name == "clean" and fmt == "text":
            same = same and split.returncode == 0 and b"0 errors, 0 warnings: VALID" in split.stdout
        print("%s %-22s %-4s exit %d, %d output lines" % ("ok  " if same else "FAIL", name, fmt, split.returncode, diags))
        if not same:
            failures += 1
    os.remove(path)
print("%d failures" % failures)
sys.exit(1 if failures else 0)
