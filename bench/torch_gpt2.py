"""The PyTorch peer of bench/engine: a GPT-2 model directory (config.json,
model.safetensors, F32) run by plain PyTorch on the CPU (no transformers: it
is not a Debian package), the same arithmetic as transformers' GPT2LMHeadModel
(Conv1D weights used as stored, gelu_new, tied head), and an sgemm GFLOP/s
measurement of the same OpenBLAS.

Usage: torch_gpt2.py DIR SEQS.jsonl   -> {"seconds", "logprobs"}: the continuation log-probs of
                                         {"ids", "n_ctx"} lines, one forward each, logits only
                                         where a continuation token is predicted (prefill)
       torch_gpt2.py --sgemm N        -> GFLOP/s of an N x N float32 matrix product
As a module (bench/torch_task.py): load(DIR) and forward(...)."""
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch

THREADS = os.cpu_count()
torch.set_num_threads(THREADS)


def load(d, copy=True):
    """The weights as torch tensors and config.json.  copy: read out of the
    file into the process's memory (as transformers' from_pretrained does);
    else mapped copy-on-write from the file (as safetensors' safe_open can)."""
    cfg = json.load(open(os.path.join(d, "config.json")))
    path = os.path.join(d, "model.safetensors")
    raw = open(path, "rb").read() if copy else np.memmap(path, dtype=np.uint8, mode="c")
    n = struct.unpack("<Q", bytes(raw[:8]))[0]
    header = json.loads(bytes(raw[8:8 + n]))
    W = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        b0, b1 = v["data_offsets"]
        t = np.frombuffer(raw, dtype="<f4", count=(b1 - b0) // 4, offset=8 + n + b0).reshape(v["shape"])
        W[k.replace("transformer.", "")] = torch.from_numpy(t.copy() if copy else t)
    del raw
    W["cfg"] = cfg
    return W


def forward(W, ids, pos, past=(), mask=None, fused=False):
    """ids, pos: [B, T] long.  past: segments of earlier keys and values, each
    per layer (K, V) of shape [B or 1, H, P_i, hd] (a batch of 1 is broadcast,
    not copied).  mask: [B, 1, T, sum P_i + T] bool (True = may attend), or
    None for plain causal attention without a past.  The segments are never
    concatenated: the scores are, and each segment's values are summed in.
    fused: gelu_new as torch's fused gelu(approximate="tanh") rather than
    transformers' formula.  Returns the final-LayerNorm hidden states [B, T, C]
    and per layer this call's own (K, V)."""
    cfg = W["cfg"]
    L, C, H = cfg["n_layer"], cfg["n_embd"], cfg["n_head"]
    hd = C // H
    B, T = ids.shape
    x = (W["wte.weight"][ids] + W["wpe.weight"][pos]).reshape(B * T, C)
    if mask is None:
        mask = torch.ones(T, T, dtype=torch.bool).tril().expand(B, 1, T, T)
    neg = torch.zeros(mask.shape).masked_fill_(~mask, float("-inf"))
    kv = []
    for l in range(L):
        p = f"h.{l}."
        h = torch.nn.functional.layer_norm(x, (C,), W[p + "ln_1.weight"], W[p + "ln_1.bias"], 1e-5)
        qkv = torch.addmm(W[p + "attn.c_attn.bias"], h, W[p + "attn.c_attn.weight"])
        q, k, v = (t.reshape(B, T, H, hd).transpose(1, 2) for t in qkv.split(C, dim=1))
        kv.append((k, v))
        segs = [seg[l] for seg in past] + [(k, v)]
        q = q / math.sqrt(hd)
        s = torch.cat([torch.matmul(q, K.transpose(2, 3)) for K, _ in segs], -1) + neg
        pr = torch.softmax(s, -1)
        a, off = None, 0
        for K, V in segs:
            part = torch.matmul(pr[..., off:off + K.shape[2]], V)
            a = part if a is None else a + part
            off += K.shape[2]
        x = x + torch.addmm(W[p + "attn.c_proj.bias"], a.transpose(1, 2).reshape(B * T, C), W[p + "attn.c_proj.weight"])
        h = torch.nn.functional.layer_norm(x, (C,), W[p + "ln_2.weight"], W[p + "ln_2.bias"], 1e-5)
        f = torch.addmm(W[p + "mlp.c_fc.bias"], h, W[p + "mlp.c_fc.weight"])
        f = torch.nn.functional.gelu(f, approximate="tanh") if fused else \
            0.5 * f * (1 + torch.tanh(0.7978845608028654 * (f + 0.044715 * f ** 3)))
        x = x + torch.addmm(W[p + "mlp.c_proj.bias"], f, W[p + "mlp.c_proj.weight"])
    x = torch.nn.functional.layer_norm(x, (C,), W["ln_f.weight"], W["ln_f.bias"], 1e-5)
    return x.reshape(B, T, C), kv


def sgemm(n):
    a, b = np.random.rand(n, n).astype(np.float32), np.random.rand(n, n).astype(np.float32)
    a @ b
    best = min((lambda t0: (a @ b, time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(5))
    return 2 * n ** 3 / best / 1e9


def main():
    if sys.argv[1] == "--sgemm":
        print(f"{sgemm(int(sys.argv[2])):.1f}")
        return
    W = load(sys.argv[1], copy=False)
    out = []
    t0 = time.perf_counter()
    with torch.inference_mode():
        for line in open(sys.argv[2]):
            s = json.loads(line)
            ids, k = torch.tensor(s["ids"]), s["n_ctx"]
            h, _ = forward(W, ids[None], torch.arange(len(ids))[None], fused=True)
            h = h[0, k - 1:-1]  # the positions that predict continuation tokens
            logits = (h @ W["wte.weight"].T).double()
            out.append(torch.log_softmax(logits, -1).gather(1, ids[k:].unsqueeze(1)).squeeze(1).tolist())
    print(json.dumps({"seconds": time.perf_counter() - t0, "logprobs": out}))


if __name__ == "__main__":
    main()
