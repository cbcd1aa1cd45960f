"""The peer of bench/engine: a GPT-2 model directory (config.json,
model.safetensors) scored with PyTorch on the CPU at its best (one batched
forward under inference_mode, threads = cores, logits only where needed), and
an sgemm GFLOP/s measurement of the same OpenBLAS.
Usage: torch_gpt2.py DIR SEQS.jsonl   -> prints the continuation log-probs and the seconds
       torch_gpt2.py --sgemm N        -> GFLOP/s of an N x N float32 matrix product"""
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch

torch.set_num_threads(os.cpu_count())

if sys.argv[1] == "--sgemm":
    n = int(sys.argv[2])
    a, b = np.random.rand(n, n).astype(np.float32), np.random.rand(n, n).astype(np.float32)
    a @ b
    best = min((lambda t0: (a @ b, time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(5))
    print(f"{2 * n ** 3 / best / 1e9:.1f}")
    sys.exit(0)

d, seqs = sys.argv[1], sys.argv[2]
cfg = json.load(open(os.path.join(d, "config.json")))
raw = open(os.path.join(d, "model.safetensors"), "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
W = {}
for k, v in header.items():
    if k == "__metadata__":
        continue
    b0, b1 = v["data_offsets"]
    W[k.replace("transformer.", "")] = torch.from_numpy(
        np.frombuffer(raw, dtype="<f4", count=(b1 - b0) // 4, offset=8 + n + b0).reshape(v["shape"]).copy())
L, C, H = cfg["n_layer"], cfg["n_embd"], cfg["n_head"]
hd = C // H


def ln(x, w, b):
    return torch.nn.functional.layer_norm(x, (C,), w, b, 1e-5)


def forward(ids):
    T = ids.shape[0]
    x = W["wte.weight"][ids] + W["wpe.weight"][:T]
    for l in range(L):
        p = f"h.{l}."
        h = ln(x, W[p + "ln_1.weight"], W[p + "ln_1.bias"])
        qkv = torch.addmm(W[p + "attn.c_attn.bias"], h, W[p + "attn.c_attn.weight"])
        q, k, v = (t.view(T, H, hd).transpose(0, 1) for t in qkv.split(C, dim=1))
        a = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True) \
            if hasattr(torch.nn.functional, "scaled_dot_product_attention") else \
            torch.softmax((q @ k.transpose(1, 2)) / math.sqrt(hd) + torch.full((T, T), float("-inf")).triu(1), -1) @ v
        x = x + torch.addmm(W[p + "attn.c_proj.bias"], a.transpose(0, 1).reshape(T, C), W[p + "attn.c_proj.weight"])
        h = ln(x, W[p + "ln_2.weight"], W[p + "ln_2.bias"])
        f = torch.addmm(W[p + "mlp.c_fc.bias"], h, W[p + "mlp.c_fc.weight"])
        f = 0.5 * f * (1 + torch.tanh(0.7978845608028654 * (f + 0.044715 * f ** 3)))
        x = x + torch.addmm(W[p + "mlp.c_proj.bias"], f, W[p + "mlp.c_proj.weight"])
    return ln(x, W["ln_f.weight"], W["ln_f.bias"])


out = []
t0 = time.perf_counter()
with torch.inference_mode():
    for line in open(seqs):
        s = json.loads(line)
        ids, k = torch.tensor(s["ids"]), s["n_ctx"]
        h = forward(ids)[k - 1:-1]  # the positions that predict continuation tokens
        logits = (h @ W["wte.weight"].T).double()
        lp = torch.log_softmax(logits, -1).gather(1, ids[k:].unsqueeze(1)).squeeze(1)
        out.append(lp.tolist())
elapsed = time.perf_counter() - t0
print(json.dumps({"seconds": elapsed, "logprobs": out}))
