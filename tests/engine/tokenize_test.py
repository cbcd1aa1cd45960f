"""invscale lm tokenize against Hugging Face tokenizers: every string of the
fixtures' cases.jsonl through both tokenizers, ids equal, and --decode gives
each text back (cases without a NUL, which JSON input cannot carry whole).
Usage: tokenize_test.py INVSCALE FIXTURES_TOKENIZERS_DIR"""
import json
import os
import subprocess
import sys

bin_, d = sys.argv[1], sys.argv[2]
cases = [json.loads(l) for l in open(os.path.join(d, "cases.jsonl"))]
passed = failed = 0
for tok, key in (("gpt2.json", "gpt2"), ("gpt2-llama3split.json", "llama3split")):
    path = os.path.join(d, tok)
    stdin = "".join(json.dumps({"text": c["text"]}) + "\n" for c in cases if "\0" not in c["text"])
    want = [c[key] for c in cases if "\0" not in c["text"]]
    out = subprocess.run([bin_, "lm", "tokenize", path], input=stdin, capture_output=True, text=True).stdout
    got = [json.loads(l)["ids"] for l in out.split("\n") if l]
    for w, g in zip(want, got):
        passed += w == g
        failed += w != g
    failed += len(got) != len(want)
    back = subprocess.run([bin_, "lm", "tokenize", path, "--decode"], input="".join(json.dumps({"ids": g}) + "\n" for g in got),
                          capture_output=True, text=True).stdout
    texts = [json.loads(l)["text"] for l in back.split("\n") if l]
    want_texts = [c["text"] for c in cases if "\0" not in c["text"]]
    for w, t in zip(want_texts, texts):
        passed += w == t
        failed += w != t
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
