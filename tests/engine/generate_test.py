"""invscale lm generate, tried as a user would: for every fixture model, greedy generations re-scored
with `lm score` have every token as the argmax (greedy true), and their first token is the
transformers reference's argmax after the same prompt ids; samples of one prompt under greedy are equal;
sampling with a seed gives the same generations run after run, other ones with another seed;
a stop string ends the text before it (stop_reason "stop"); generation_config.json's eos_token_id
ends a generation (stop_reason "eos", the token left out); and bad options and input are refused
with a message and a non-zero status.
Usage: generate_test.py INVSCALE FIXTURES_MODELS_DIR"""
import json
import os
import sys
import tempfile

bin_, models = sys.argv[1], sys.argv[2]
from checks import check, finish, run  # noqa: E402


def gen(model, prompts, *opts):
    rc, out, err = run(["lm", "generate", model, *opts], "".join(json.dumps({"prompt": p}) + "\n" for p in prompts))
    if rc != 0:
        raise SystemExit(f"lm generate {model} {opts}: {err}")
    return [json.loads(l) for l in out.splitlines()]


for name in ["gpt2-f32", "gpt2-bf16", "llama", "qwen2", "pythia", "opt"]:
    d = os.path.join(models, name)
    refs = [json.loads(l) for l in open(os.path.join(d, "reference.jsonl"))]
    prompts = [r["prompt"] for r in refs][:12]
    rows = gen(d, prompts, "--max-new-tokens", "12", "--samples", "2")
    check(len(rows) == 2 * len(prompts), f"{name}: {len(rows)} generations for {len(prompts)} prompts x 2")
    # the prompt's ids as lm tokenize --special gives them (the start token as generate adds it)
    _, tok, _ = run(["lm", "tokenize", d, "--special"], "".join(json.dumps({"text": p}) + "\n" for p in prompts))
    pids = [json.loads(l)["ids"] for l in tok.splitlines()]
    seqs = []
    for i, p in enumerate(prompts):
        a, b = rows[2 * i], rows[2 * i + 1]
        check(a["index"] == i and b["sample"] == 1, f"{name}: prompt {i}: rows out of order")
        check(a["ids"] == b["ids"] and a["text"] == b["text"], f"{name}: prompt {i}: greedy samples differ")
        check(a["stop_reason"] in ("length", "eos", "context"), f"{name}: prompt {i}: stop {a['stop_reason']}")
        ids = pids[i]
        bos = json.load(open(os.path.join(d, "config.json"))).get("bos_token_id")
        if name == "opt" and ids[:1] != [bos]:  # OPT's start token, from config.json
            ids = [bos] + ids
        if a["ids"]:
            seqs.append((i, ids, a["ids"]))
    stdin = "".join(json.dumps({"ids": ids + g, "n_ctx": len(ids)}) + "\n" for _, ids, g in seqs)
    rc, out, err = run(["lm", "score", d], stdin)
    check(rc == 0, f"{name}: lm score: {err}")
    for (i, ids, g), line in zip(seqs, out.splitlines()):
        s = json.loads(line)
        check(s["greedy"], f"{name}: prompt {i}: the generation is not the argmax of a forward over it")
        # transformers' argmax after the prompt, where the reference's prompt ids are these
        r = refs[i]
        if r["ids"][: r["n_ctx"]] == ids:
            check(g[0] == r["argmax"][r["n_ctx"] - 1], f"{name}: prompt {i}: first token {g[0]}, reference {r['argmax'][r['n_ctx'] - 1]}")
    # sampling: reproducible with a seed, different with another
    samp = ["--max-new-tokens", "10", "--temperature", "1.2", "--top-k", "50", "--top-p", "0.95", "--samples", "3"]
    one = gen(d, prompts[:4], *samp, "--seed", "5")
    two = gen(d, prompts[:4], *samp, "--seed", "5")
    other = gen(d, prompts[:4], *samp, "--seed", "6")
    check(one == two, f"{name}: the same seed gave other generations")
    check(sum(x["ids"] != y["ids"] for x, y in zip(one, other)) >= 6, f"{name}: another seed gave the same generations")
    # alone, the first prompt's samples are what they were among the others (batching does not change them)
    alone = gen(d, prompts[:1], *samp, "--seed", "5")
    check([x["ids"] for x in alone] == [x["ids"] for x in one[:3]], f"{name}: prompt 0 alone sampled otherwise than among others")
    # a stop string taken from a greedy text
    g0 = next((r for r in rows if len(r["text"]) >= 6), None)
    if g0:
        stop = g0["text"][3:5]
        st = gen(d, [prompts[g0["index"]]], "--max-new-tokens", "12", "--stop", stop)[0]
        first = g0["text"].find(stop)
        check(st["stop_reason"] == "stop" and st["text"] == g0["text"][:first],
              f"{name}: --stop {stop!r}: {st['text']!r} ({st['stop_reason']}), expected {g0['text'][:first]!r}")

# generation_config.json's end token
with tempfile.TemporaryDirectory() as tmp:
    src = os.path.join(models, "gpt2-f32")
    for f in os.listdir(src):  # links to the fixture's files; generation_config.json is written anew, never through a link
        if f != "generation_config.json":
            os.symlink(os.path.join(src, f), os.path.join(tmp, f))
    base = gen(src, ["Hello there"], "--max-new-tokens", "12")[0]
    eos = base["ids"][3]
    with open(os.path.join(tmp, "generation_config.json"), "w") as f:
        json.dump({"eos_token_id": [99999, eos]}, f)
    e = gen(tmp, ["Hello there"], "--max-new-tokens", "12")[0]
    k = base["ids"].index(eos)
    check(e["stop_reason"] == "eos" and e["ids"] == base["ids"][:k], f"eos {eos}: {e}")
    with open(os.path.join(tmp, "generation_config.json"), "w") as f:
        f.write("{not json")
    rc, _, err = run(["lm", "generate", tmp], '{"prompt":"x"}\n')
    check(rc == 1 and "generation_config.json" in err, f"a malformed generation_config.json: {rc} {err}")

# --temperature 0 is greedy (as servers and probe read it)
m = os.path.join(models, "gpt2-f32")
check(gen(m, ["Hello there"], "--temperature", "0", "--max-new-tokens", "6") == gen(m, ["Hello there"], "--max-new-tokens", "6"),
      "--temperature 0 is not the greedy generation")
# bad options and input
for args, stdin, want in [
    (["--temperature", "1", "--top-k", "0"], '{"prompt":"x"}\n', "--top-k 0"),
    (["--temperature", "1", "--top-p", "1.5"], '{"prompt":"x"}\n', "--top-p"),
    (["--temperature", "1", "--top-p", "0"], '{"prompt":"x"}\n', "--top-p"),
    (["--temperature", "-0.5"], '{"prompt":"x"}\n', "--temperature"),
    (["--top-p", "0.9"], '{"prompt":"x"}\n', "give --temperature"),
    (["--greedy", "--temperature", "1"], '{"prompt":"x"}\n', "--greedy"),
    (["--max-new-tokens", "0"], '{"prompt":"x"}\n', "--max-new-tokens"),
    (["--frobnicate", "1"], '{"prompt":"x"}\n', "unknown option"),
    ([], '{"text":"x"}\n', "stdin:1"),
    ([], '{"prompt":"x"}\n{"prompt": 3}\n', "stdin:2"),
]:
    rc, out, err = run(["lm", "generate", m, *args], stdin)
    check(rc != 0 and want in err and out == "", f"lm generate {args}: {rc} {err!r}")
rc, out, err = run(["lm", "generate", "/nonexistent"], '{"prompt":"x"}\n')
check(rc == 1 and "/nonexistent" in err, f"a missing model directory: {err!r}")

finish()
