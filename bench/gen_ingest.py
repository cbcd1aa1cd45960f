"""Writes a prize-style CSV: multi-line prompts of about 300 bytes, 2 to 4
classes as Python list literals, an answer index and two extra columns.
Usage: gen_ingest.py ROWS OUT.csv  (deterministic for a given ROWS)."""
import csv
import random
import sys

rows, out = int(sys.argv[1]), sys.argv[2]
rng = random.Random(1234)
words = ("the model said that a quick brown fox jumps over lazy dogs while "
         "researchers measure inverse scaling on larger language models and "
         "'quoted' words, commas, \"double quotes\" appear too").split()
opts = [" Yes", " No", " Maybe", " it's", ' "quoted"', " café", " 42"]
with open(out, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["prompt", "classes", "answer_index", "round", "part"])
    for i in range(rows):
        n = rng.randint(2, 4)
        lines = []
        size = 0
        while size < 290:
            line = " ".join(rng.choice(words) for _ in range(rng.randint(6, 12)))
            lines.append(line)
            size += len(line) + 1
        prompt = f"Q{i}: " + "\n".join(lines) + "\nA:"
        classes = rng.sample(opts, n)
        w.writerow([prompt, repr(classes), rng.randrange(n), 1 + i % 2, 1 + i % 3])
