"""The same scoring in plain Python (stdlib only): per example loss,
correct and total_logprob for each model, then per-model mean and SEM, and
each example's least-squares slope of its loss against log10(parameters)
(the k-th model file has 10^(8+k) parameters, as bench/eval gives them) with
the share of examples whose loss rises.
Usage: python_eval.py TASK MODEL_FILE..."""
import json
import math
import sys

task = [json.loads(line) for line in open(sys.argv[1])]
per_model = []
for path in sys.argv[2:]:
    losses, correct = [], 0
    with open(path) as f:
        for ex, line in zip(task, f):
            lp = json.loads(line)["class_logprobs"]
            m = max(lp)
            total = m + math.log(sum(math.exp(x - m) for x in lp))
            a = ex["answer_index"]
            losses.append(total - lp[a])
            correct += max(range(len(lp)), key=lambda j: (lp[j], -j)) == a
    n = len(losses)
    mean = sum(losses) / n
    sem = math.sqrt(sum((x - mean) ** 2 for x in losses) / n) / math.sqrt(n)
    print(f"{path}: mean {mean:.6f} sem {sem:.6f} accuracy {correct / n:.6f}")
    per_model.append(losses)
xs = [8.0 + k for k in range(len(per_model))]
xbar = sum(xs) / len(xs)
sxx = sum((x - xbar) ** 2 for x in xs)
w = [(x - xbar) / sxx for x in xs]
rising = sum(1 for ys in zip(*per_model) if sum(a * b for a, b in zip(w, ys)) > 0)
print(f"share of examples rising {rising / len(task):.6f}")
