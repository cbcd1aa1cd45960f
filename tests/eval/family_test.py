"""Exactness: the prize pipeline's results for a 3-model family
(../shared/fixtures/hf-reference/family/expected.json), fed through logprobs:
files, are reproduced by invscale eval within 1e-9; summary.json and the SVG are
checked too.  Usage: family_test.py INVSCALE FAMILY_DIR WORKDIR"""
import csv
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

invscale, fam, work = sys.argv[1:4]
exp = json.load(open(os.path.join(fam, "expected.json")))
params = exp["n_params"]
failures = checks = 0


def close(a, b, what):
    global failures, checks
    checks += 1
    if abs(a - b) > 1e-9:
        print(f"{what}: {a!r} != {b!r}")
        failures += 1


for kind in ("classification", "logodds"):
    out = os.path.join(work, kind)
    args = [invscale, "eval", os.path.join(fam, f"{kind}.jsonl"), "--out", out, "--bootstrap", "200"]
    for name, rows in exp[kind].items():
        path = os.path.join(work, f"{kind}-{name}.jsonl")
        with open(path, "w") as f:
            for i, r in enumerate(rows):
                if kind == "classification":
                    rec = {"index": i, "class_logprobs": r["class_logprobs"]}
                else:
                    rec = {"index": i, "prompt_class_logprobs": r["prompt_logprobs"],
                           "other_prompt_class_logprobs": r["other_prompt_logprobs"]}
                f.write(json.dumps(rec) + "\n")
        args += ["--model", f"{name}=logprobs:{path}", "--params", f"{name}={params[name]}"]
    run = subprocess.run(args, capture_output=True, text=True)
    print(run.stdout.strip() or run.stderr.strip())
    if run.returncode:
        sys.exit(1)
    for name, rows in exp[kind].items():
        with open(os.path.join(out, f"{name}.csv"), newline="") as f:
            got = list(csv.DictReader(f))
        assert len(got) == len(rows), (name, len(got), len(rows))
        for i, (g, r) in enumerate(zip(got, rows)):
            if kind == "classification":
                close(float(g["loss"]), r["loss"], f"{name}[{i}].loss")
                close(float(g["total_logprob"]), r["total_logprob"], f"{name}[{i}].total_logprob")
            else:
                close(float(g["logodds_difference"]), r["logodds_difference"], f"{name}[{i}].logodds_difference")
            checks += 1
            if int(g["correct"]) != r["correct"]:
                print(f"{name}[{i}].correct: {g['correct']} != {r['correct']}")
                failures += 1
    summary = json.load(open(os.path.join(out, "summary.json")))
    names = [m["name"] for m in summary["models"]]
    assert names == sorted(params, key=params.get), names
    for m in summary["models"]:
        losses = [r["loss" if kind == "classification" else "logodds_difference"] for r in exp[kind][m["name"]]]
        mean = sum(losses) / len(losses)
        sem = (sum((x - mean) ** 2 for x in losses) / len(losses)) ** 0.5 / len(losses) ** 0.5
        close(m["mean"], mean, f"{kind} {m['name']} mean")
        close(m["sem"], sem, f"{kind} {m['name']} sem")
    # each example's slope_per_decade: the least-squares slope of its loss against log10(params)
    import math
    names_by_size = sorted(params, key=params.get)
    xs = [math.log10(params[n]) for n in names_by_size]
    xbar = sum(xs) / len(xs)
    sxx = sum((x - xbar) ** 2 for x in xs)
    key = "loss" if kind == "classification" else "logodds_difference"
    rows_out = [json.loads(line) for line in open(os.path.join(out, "labelled_data.jsonl"))]
    rising = 0
    for i, row in enumerate(rows_out):
        want = sum((x - xbar) * exp[kind][n][i][key] for x, n in zip(xs, names_by_size)) / sxx
        close(row["slope_per_decade"], want, f"{kind}[{i}].slope_per_decade")
        rising += want > 0
    close(summary["trend"]["share_examples_rising"], rising / len(rows_out), f"{kind} share_examples_rising")
    assert summary["trend"]["verdict"] in ("inverse", "positive", "flat", "u-shaped", "inverted-u")
    svg = ET.parse(os.path.join(out, "loss_plot.svg")).getroot()
    points = [c for c in svg.iter("{http://www.w3.org/2000/svg}circle") if c.get("class") == "model"]
    assert sorted(p.get("data-model") for p in points) == sorted(params), [p.get("data-model") for p in points]
    checks += 1
    # outputs get the usual mode (0666 less the umask), also when written on two threads
    mask = os.umask(0)
    os.umask(mask)
    for fn in os.listdir(out):
        mode = os.stat(os.path.join(out, fn)).st_mode & 0o777
        if os.path.isfile(os.path.join(out, fn)) and mode != 0o666 & ~mask:
            print(f"{fn}: mode {mode:o}, expected {0o666 & ~mask:o}")
            failures += 1
    checks += 1
print(f"{checks} checks, {failures} failures")
sys.exit(1 if failures else 0)
