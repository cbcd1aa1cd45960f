"""Writes a prize-style classification JSONL of ROWS examples (about 400 bytes
each; deterministic).  Usage: gen_validate.py ROWS OUT.jsonl"""
import json
import random
import sys

rows, out = int(sys.argv[1]), sys.argv[2]
rng = random.Random(99)
words = ("the model said that a quick brown fox jumps over lazy dogs while researchers "
         "measure inverse scaling on larger language models and quoted words appear").split()
opts = [" Yes", " No", " Maybe", " it's", ' "quoted"', " café", " 42"]
with open(out, "w", encoding="utf-8") as f:
    for i in range(rows):
        n = rng.randint(2, 4)
        text = " ".join(rng.choice(words) for _ in range(rng.randint(45, 60)))
        prompt = f"Q{i}: {text}\nA:"
        rec = {"prompt": prompt, "classes": rng.sample(opts, n), "answer_index": rng.randrange(n),
               "round": 1 + i % 2, "part": 1 + i % 3}
        f.write(json.dumps(rec, ensure_ascii=False) + "\n")
