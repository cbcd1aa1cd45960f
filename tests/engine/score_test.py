"""invscale lm score against transformers: every GPT-2 fixture model (f32, f16
and bf16 weights, the size family), Llama (grouped-query attention, untied) and
Qwen2 (q/k/v biases, tied), Pythia (GPT-NeoX: partial rotary, parallel
residual, untied) and OPT (positions offset by 2, ReLU, tied, </s> first), every reference sequence, continuation
log-probs within 1e-4 and argmax equal wherever the top two are more than 1e-3 apart; lm info's parameter
count against the tensors, and its JSON (bytes to load, the cache per 1000 tokens, positions, tokenizer);
and bad model directories and inputs, each refused with a message naming what is wrong: missing files,
malformed safetensors, NaN and infinite weights (the tensor and element), unsupported rope types and
settings (key and value), activations, sliding windows and flags, shapes that disagree with config.json
(the tensor and both shapes), a missing untied head or bias; and settings that must be accepted (a
sliding window that is off or longer than the context, rope_scaling's older "type" key).
Usage: score_test.py INVSCALE FIXTURES_MODELS_DIR"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

bin_, models = sys.argv[1], sys.argv[2]
from checks import check, finish, run  # noqa: E402


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
    # the same in JSON, with the bytes to load, the cache and the tokenizer
    rc, out, err = run(["lm", "info", d, "--format", "json"])
    info = json.loads(out) if rc == 0 else {}
    cfg = json.load(open(os.path.join(d, "config.json")))
    tj = json.load(open(os.path.join(d, "tokenizer.json")))
    tok_vocab = 1 + max(list(tj["model"]["vocab"].values()) + [t["id"] for t in tj.get("added_tokens", [])])
    layers = cfg.get("num_hidden_layers", cfg.get("n_layer"))
    kv = info.get("kv_heads", 0) * info.get("head_size", 0)
    check(info.get("parameters") == count and info.get("load_bytes") == info.get("weights_bytes", 0) + info.get("converted_bytes", 0)
          and info.get("weights_bytes") == os.path.getsize(os.path.join(d, "model.safetensors"))
          and info.get("kv_bytes_per_1000_tokens") == 2 * layers * kv * 4 * 1000 and kv > 0
          and info.get("tokenizer", {}).get("type") == "BPE" and info["tokenizer"].get("vocabulary") == tok_vocab,
          f"{name}: lm info --format json: {rc} {out!r} {err!r}")
    # the kernels OpenBLAS runs, and a narrower choice from the environment called out
    blas = info.get("blas", {})
    check(isinstance(blas.get("core"), str) and blas.get("threads", 0) >= 1, f"{name}: lm info blas {blas}")
    if blas.get("cpu_allows"):
        p = subprocess.run([sys.argv[1], "lm", "info", d], capture_output=True, text=True,
                           env=dict(os.environ, OPENBLAS_CORETYPE="Prescott"))
        check(f"compute     OpenBLAS Prescott kernels" in p.stdout
              and f"(set by OPENBLAS_CORETYPE=Prescott; this CPU allows {blas['cpu_allows']}" in p.stdout,
              f"{name}: lm info with OPENBLAS_CORETYPE=Prescott: {p.stdout!r}")
    want_pos = {"type": "learned", "offset": 2 if name == "opt" else 0} if name.startswith(("gpt2", "opt")) else None
    if want_pos:
        check(info.get("positions") == want_pos, f"{name}: lm info positions {info.get('positions')}")
    else:
        check(info.get("positions", {}).get("rope_type") == "default"
              and info["positions"].get("dims") == (2 if name == "pythia" else info.get("head_size")),
              f"{name}: lm info positions {info.get('positions')}")
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
# the last 4 bytes are the last element of the tensor that ends the data
raw = open(os.path.join(src, "model.safetensors"), "rb").read()
src_header = json.loads(raw[8:8 + struct.unpack("<Q", raw[:8])[0]])
last_name, last = max(((k, v) for k, v in src_header.items() if k != "__metadata__"), key=lambda kv: kv[1]["data_offsets"][1])
expect_error(nan, "position 0", "not finite", f"tensor '{last_name}' holds NaN at [{', '.join(str(n - 1) for n in last['shape'])}]",
             stdin='{"ids": [1, 2, 3], "n_ctx": 1}\n')


# a fixture model with its config edited (None removes a key) or its header
def variant(tag, name, config=None, header=None, data=None):
    d = os.path.join(tmp, tag)
    os.makedirs(d)
    cfg = json.load(open(os.path.join(models, name, "config.json")))
    for k, v in (config or {}).items():
        if v is None:
            cfg.pop(k, None)
        else:
            cfg[k] = v
    json.dump(cfg, open(os.path.join(d, "config.json"), "w"))
    f = open(os.path.join(models, name, "model.safetensors"), "rb").read()
    n = struct.unpack("<Q", f[:8])[0]
    h, body = json.loads(f[8:8 + n]), f[8 + n:]
    if header:
        header(h)
    if data:
        body = data(h, body)
    hb = json.dumps(h).encode()
    open(os.path.join(d, "model.safetensors"), "wb").write(struct.pack("<Q", len(hb)) + hb + body)
    return d


# an infinity in a half-precision weight: the tensor and the element named
def f16_inf(h, body):
    b0 = h["transformer.h.0.ln_1.weight"]["data_offsets"][0] + 2 * 5
    return body[:b0] + struct.pack("<H", 0x7c00) + body[b0 + 2:]


expect_error(variant("inf16", "gpt2-f16", data=f16_inf), "not finite",
             "tensor 'transformer.h.0.ln_1.weight' holds an infinity at [5]", stdin='{"ids": [1, 2, 3], "n_ctx": 1}\n')
# rope types and settings that are not supported, named with key and value
expect_error(variant("yarn", "llama", config={"rope_parameters": {"rope_type": "yarn", "factor": 4.0, "rope_theta": 1e4}}),
             "'rope_parameters.rope_type'", "'yarn'", "llama3")
expect_error(variant("dynamic", "llama", config={"rope_parameters": None, "rope_scaling": {"type": "dynamic", "factor": 2.0}}),
             "'rope_scaling.type'", "'dynamic'")
expect_error(variant("longrope", "qwen2", config={"rope_parameters": None, "rope_theta": 1e6,
                                                  "rope_scaling": {"rope_type": "longrope", "factor": 2.0}}),
             "'rope_scaling.rope_type'", "'longrope'")
expect_error(variant("neox_yarn", "pythia", config={"rope_parameters": {"rope_type": "yarn", "rope_theta": 1e4,
                                                                        "partial_rotary_factor": 0.25}}),
             "rope_type", "'yarn'")
expect_error(variant("llama3_short", "llama", config={"rope_parameters": {
    "rope_type": "llama3", "rope_theta": 5e5, "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0}}),
             "llama3", "original_max_position_embeddings")
expect_error(variant("llama3_bands", "llama", config={"rope_parameters": None, "rope_scaling": {
    "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 4.0, "high_freq_factor": 1.0,
    "original_max_position_embeddings": 8192}}), "high_freq_factor", "low_freq_factor")
expect_error(variant("llama_partial", "llama", config={"partial_rotary_factor": 0.5}), "partial_rotary_factor", "0.5")
expect_error(variant("neox_odd", "pythia", config={"rope_parameters": None, "rotary_pct": 0.375}), "rotary_pct", "0.375",
             "3 of the 8")
# activations, layouts and heads the engine does not run
expect_error(variant("opt_gelu", "opt", config={"activation_function": "gelu"}), "'activation_function'", "'gelu'", "relu")
expect_error(variant("llama_gelu", "llama", config={"hidden_act": "gelu"}), "'hidden_act'", "'gelu'", "silu")
expect_error(variant("neox_gelu_new", "pythia", config={"hidden_act": "gelu_new"}), "'hidden_act'", "'gelu_new'")
expect_error(variant("gpt2_unscaled", "gpt2-f32", config={"scale_attn_weights": False}), "'scale_attn_weights'", "false")
expect_error(variant("qwen2_sliding", "qwen2", config={"layer_types": None, "use_sliding_window": True,
                                                       "sliding_window": 64, "max_window_layers": 1}),
             "sliding_window", "64", "from layer 1")
expect_error(variant("qwen2_types", "qwen2", config={"layer_types": ["full_attention", "sliding_attention"],
                                                     "sliding_window": 32}), "sliding_window", "32", "from layer 1")
expect_error(variant("untied_nohead", "llama", header=lambda h: h.pop("lm_head.weight")), "'lm_head.weight'",
             "'tie_word_embeddings' false")
expect_error(variant("opt_flag", "opt", config={"do_layer_norm_before": "yes"}), "'do_layer_norm_before'", "true or false")
# a shape that disagrees with config.json: the tensor and both shapes
expect_error(variant("llama_ff", "llama", config={"intermediate_size": 96}), "model.layers.0.mlp.gate_proj.weight",
             "[80, 32]", "[96, 32]")
expect_error(variant("opt_proj", "opt", config={"word_embed_proj_dim": 16}), "model.decoder.embed_tokens.weight",
             "[1024, 32]", "[1024, 16]")
expect_error(variant("qwen2_nobias", "qwen2", header=lambda h: h.pop("model.layers.1.self_attn.k_proj.bias")),
             "model.layers.1.self_attn.k_proj.bias")
# settings that are fine: a disabled sliding window, the older "type" key, a tied head asked for
for tag, name, cfg in [("qwen2_window_off", "qwen2", {"layer_types": None, "use_sliding_window": False, "sliding_window": 4}),
                       ("qwen2_window_long", "qwen2", {"layer_types": None, "use_sliding_window": True,
                                                       "sliding_window": 4096, "max_window_layers": 0}),
                       ("llama_default_type", "llama", {"rope_parameters": None, "rope_theta": 10000.0,
                                                        "rope_scaling": {"type": "default"}})]:
    seqs = "".join(json.dumps({"ids": json.loads(l)["ids"], "n_ctx": json.loads(l)["n_ctx"]}) + "\n"
                   for l in open(os.path.join(models, name, "reference.jsonl")))
    rc, out, err = run(["lm", "score", variant(tag, name, config=cfg)], seqs)
    rc0, out0, _ = run(["lm", "score", os.path.join(models, name)], seqs)
    check(rc == 0 and out == out0, f"{tag}: exit {rc} {err!r}, the same output as {name}: {out == out0}")

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
finish()
