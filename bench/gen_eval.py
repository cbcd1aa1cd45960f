"""A classification task of ROWS examples (2-4 classes) and MODELS logprobs:
files with class log-probabilities.  Usage: gen_eval.py ROWS MODELS DIR"""
import json
import os
import random
import sys

rows, models, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = random.Random(11)
ncls = [rng.randint(2, 4) for _ in range(rows)]
with open(os.path.join(out, "task.jsonl"), "w") as f:
    for i, n in enumerate(ncls):
        f.write(json.dumps({"prompt": f"Q{i}: which one?", "classes": [f" c{j}" for j in range(n)],
                            "answer_index": rng.randrange(n)}) + "\n")
for m in range(models):
    with open(os.path.join(out, f"m{m}.jsonl"), "w") as f:
        for i, n in enumerate(ncls):
            f.write(json.dumps({"index": i, "class_logprobs": [round(-rng.uniform(0.1, 30), 6) for _ in range(n)]}) + "\n")
