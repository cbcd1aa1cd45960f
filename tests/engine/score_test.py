"""invscale lm score against transformers: every GPT-2 fixture model (f32, f16
and bf16 weights, the size family), Llama (grouped-query attention, untied) and
Qwen2 (q/k/v biases, tied), Pythia (GPT-NeoX: partial rotary, parallel
residual, untied) and OPT (positions offset by 2, ReLU, tied, </s> first), every reference sequence, continuation
log-probs within 1e-4 and argmax equal wherever the top two are more than 1e-3 apart; lm info's parameter
count against the tensors; and bad model directories and inputs, each refused
with a message naming what is wrong.
Usage: score_test.py INVSCALE FIXTURES_MODELS_DIR"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

bin_, models = sys.argv[1], sys.argv[2]
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def run(args, stdin=""):
    p = subprocess.run([bin_] + args, input=stdin, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


worst = 0.0
for name in ["gpt2-f32", "gpt2-f16", "gpt2-bf16", "gpt2-s", "gpt2-m", "gpt2-l", "llama", "qwen2", "pythia", "opt"]:
    d = os.path.join(models, name)
    refs = [json.loads(l) for l in open(os.path.join(d, "reference.jsonl"))]
    stdin = "".join(json.dumps({"ids": r["ids"], "n_ctx": r["n_ctx"]}) + "\n" for r in refs)
    rc, out, err = run(["lm", "score", d], stdin)
    check(rc == 0, f"{name}: exit {rc}: {err}")
    got = [json.loads(l) for l in out.splitlines()]
    check(len(got) == len(refs), f"{name}: {len(got)} results for {len(refs)} sequences")
    for r, g in zip(refs, got):
        diff = max(abs(a - b) for a, b in zip(r["continuation_logprobs"], g["continuation_logprobs"]))
        worst = max(worst, diff)
        check(len(r["continuation_logprobs"]) == len(g["continuation_logprobs"]) and diff < 1e-4,
              f"{name}: {r['prompt']!r}: log-probs differ by {diff}")
        # argmax equal wherever the top two are more than 1e-3 apart (the margin
        # measured by scoring both tokens at that position)
        for t, (a, b) in enumerate(zip(g["argmax"], r["argmax"])):
            if a == b:
                continue
            probe = "".join(json.dumps({"ids": r["ids"][:t + 1] + [x], "n_ctx": t + 1}) + "\n" for x in (a, b))
            _, pout, _ = run(["lm", "score", d], probe)
            la, lb = (json.loads(l)["continuation_logprobs"][0] for l in pout.splitlines())
            check(abs(la - lb) < 1e-3, f"{name}: {r['prompt']!r}: position {t}: argmax {a}, transformers {b}, "
                                       f"{abs(la - lb):.3g} apart")
        check(abs(g["sum_logprob"] - r["sum_logprob"]) < 1e-4 * len(r["continuation_logprobs"]), f"{name}: sum")
    # the parameter count from the weights
    f = open(os.path.join(d, "model.safetensors"), "rb")
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    count = 0
    for k, v in header.items():
        if k != "__metadata__":
            c = 1
            for s in v["shape"]:
                c *= s
            count += c
    rc, out, err = run(["lm", "info", d])
    check(f"parameters  {count}\n" in out, f"{name}: lm info says {out!r}, the tensors hold {count}")
print(f"largest log-prob difference from transformers: {worst:.3g}")

# bad directories and inputs
tmp = tempfile.mkdtemp()
src = os.path.join(models, "gpt2-f32")


def model_dir(tag, header=None, data=None, config=None, raw=None):
    d = os.path.join(tmp, tag)
    os.makedirs(d)
    cfg = json.load(open(os.path.join(src, "config.json")))
    if config:
        cfg.update(config)
    json.dump(cfg, open(os.path.join(d, "config.json"), "w"))
    f = open(os.path.join(src, "model.safetensors"), "rb").read()
    n = struct.unpack("<Q", f[:8])[0]
    h, body = json.loads(f[8:8 + n]), f[8 + n:]
    if header:
        header(h)
    if raw is None:
        hb = json.dumps(h).encode()
        raw = struct.pack("<Q", len(hb)) + hb + (body if data is None else data(body))
    open(os.path.join(d, "model.safetensors"), "wb").write(raw)
    return d


def expect_error(d, *words, stdin=None):
    rc, out, err = run(["lm", "score" if stdin else "info", d], stdin or "")
    ok = rc != 0 and all(w in err for w in words)
    check(ok, f"{os.path.basename(d)}: exit {rc}, stderr {err!r}, wanted {words}")


empty = os.path.join(tmp, "empty")
os.makedirs(empty)
expect_error(empty, "config.json")
nocfg = model_dir("noweights")
os.remove(os.path.join(nocfg, "model.safetensors"))
expect_error(nocfg, "model.safetensors")
expect_error(model_dir("mamba", config={"model_type": "mamba"}), "model_type", "mamba")
expect_error(model_dir("truncated", data=lambda b: b[:len(b) // 2]), "past the end")
expect_error(model_dir("f64", header=lambda h: h["transformer.wte.weight"].update(dtype="F64")), "F64")
expect_error(model_dir("i8", header=lambda h: h["transformer.wte.weight"].update(dtype="I8")), "I8")
expect_error(model_dir("overlap", header=lambda h: h["transformer.wpe.weight"].update(
    data_offsets=[h["transformer.wte.weight"]["data_offsets"][0], h["transformer.wte.weight"]["data_offsets"][0] + 256 * 32 * 4])),
    "overlap")
expect_error(model_dir("span", header=lambda h: h["transformer.wte.weight"].update(shape=[1024, 31])), "bytes for")
expect_error(model_dir("shape", config={"n_embd": 64, "n_head": 4}), "transformer.wte.weight", "[1024, 32]", "[1024, 64]")
expect_error(model_dir("missing", header=lambda h: h.pop("transformer.ln_f.bias")), "transformer.ln_f.bias")
expect_error(model_dir("hugeheader", raw=struct.pack("<Q", 1 << 40) + b"{}"), "header")
expect_error(model_dir("longheader", raw=struct.pack("<Q", 5000) + b"{}"), "truncated")
expect_error(model_dir("short", raw=b"\x01\x02"), "too short")
expect_error(src, "outside the vocabulary", stdin='{"ids": [1, 2, 99999], "n_ctx": 1}\n')
expect_error(src, "n_ctx", stdin='{"ids": [1, 2, 3], "n_ctx": 0}\n')
expect_error(src, "n_ctx", stdin='{"ids": [1, 2, 3], "n_ctx": 3}\n')
expect_error(src, "context", stdin=json.dumps({"ids": [1] * 300, "n_ctx": 1}) + "\n")
expect_error(src, "stdin:1", stdin='{"ids": "x"}\n')
nan = model_dir("nan", data=lambda b: b[:-4] + struct.pack("<f", float("nan")))
expect_error(nan, "not finite", stdin='{"ids": [1, 2, 3], "n_ctx": 1}\n')

# a model in shards (model.safetensors.index.json) scores as the one file does
def shard(tag, break_index=None):
    d = os.path.join(tmp, tag)
    os.makedirs(d)
    shutil.copy(os.path.join(models, "gpt2-m", "config.json"), d)
    f = open(os.path.join(models, "gpt2-m", "model.safetensors"), "rb").read()
    n = struct.unpack("<Q", f[:8])[0]
    h, body = json.loads(f[8:8 + n]), f[8 + n:]
    names = sorted(k for k in h if k != "__metadata__")
    weight_map = {}
    for part, chunk in enumerate([names[:len(names) // 2], names[len(names) // 2:]]):
        fname = f"model-{part + 1:05d}-of-00002.safetensors"
        head, data = {}, b""
        for k in chunk:
            b0, b1 = h[k]["data_offsets"]
            head[k] = {"dtype": h[k]["dtype"], "shape": h[k]["shape"], "data_offsets": [len(data), len(data) + b1 - b0]}
            data += body[b0:b1]
            weight_map[k] = fname
        hb = json.dumps(head).encode()
        open(os.path.join(d, fname), "wb").write(struct.pack("<Q", len(hb)) + hb + data)
    if break_index:
        break_index(weight_map)
    json.dump({"metadata": {}, "weight_map": weight_map}, open(os.path.join(d, "model.safetensors.index.json"), "w"))
    return d


refs = [json.loads(l) for l in open(os.path.join(models, "gpt2-m", "reference.jsonl"))]
stdin = "".join(json.dumps({"ids": r["ids"], "n_ctx": r["n_ctx"]}) + "\n" for r in refs)
rc, one, err = run(["lm", "score", os.path.join(models, "gpt2-m")], stdin)
rc2, two, err2 = run(["lm", "score", shard("sharded")], stdin)
check(rc == 0 and rc2 == 0 and one == two, f"sharded model: exit {rc2} {err2!r}, same output: {one == two}")
expect_error(shard("noshard", lambda wm: wm.update({k: "model-00009-of-00002.safetensors" for k in list(wm)[:1]})),
             "model-00009-of-00002.safetensors")
expect_error(shard("misplaced", lambda wm: wm.update({"transformer.wte.weight": "model-00002-of-00002.safetensors"
                                                      if wm["transformer.wte.weight"].startswith("model-00001")
                                                      else "model-00001-of-00002.safetensors"})),
             "transformer.wte.weight", "where the index puts it")
shutil.rmtree(tmp)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
