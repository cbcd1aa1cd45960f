"""The PyTorch peer of bench/generate: decoding a GPT-2 model directory with a
K/V cache, batched, at its best: inference_mode, threads = cores, weights
mapped; GROUP prompts left-padded and run once, their keys and values shared by
their samples (repeat_interleave once), the generated tokens' keys and values
written into preallocated buffers (no concatenation per step), the head only at
the last position; sampling as transformers' warpers do it (temperature, top-k,
top-p, then torch.multinomial); a sequence that emits <|endoftext|> stops
counting (its row still runs, as in transformers' batched generate).

Usage: torch_generate.py DIR IDS.jsonl NEW SAMPLES (greedy | T K P) [GROUP]
       -> {"seconds", "tokens", "ids": [[generated ids] per prompt and sample]}
       torch_generate.py --memcpy MB -> GB/s of numpy copying MB megabytes (best of 5)"""
import json
import sys
import time

import numpy as np
import torch

sys.path.insert(0, __import__("os").path.dirname(__file__))
from torch_gpt2 import forward, load  # noqa: E402

EOS = 50256


def warp(logits, t, k, p):
    logits = logits / t
    if k:
        kth = torch.topk(logits, k)[0][..., -1, None]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if p < 1:
        srt, idx = torch.sort(logits, descending=False)
        cum = srt.softmax(-1).cumsum(-1)
        remove = cum <= (1 - p)
        remove[..., -1:] = False
        logits = logits.masked_fill(remove.scatter(1, idx, remove), float("-inf"))
    return logits


def generate(W, prompts, new, samples, sampling, group):
    cfg = W["cfg"]
    L, C, H = cfg["n_layer"], cfg["n_embd"], cfg["n_head"]
    hd = C // H
    out, tokens = [], 0
    for g0 in range(0, len(prompts), group):
        ps = prompts[g0:g0 + group]
        G, P = len(ps), max(len(p) for p in ps)
        ids = torch.zeros(G, P, dtype=torch.long)
        pos = torch.zeros(G, P, dtype=torch.long)
        keep = torch.zeros(G, P, dtype=torch.bool)
        for i, p in enumerate(ps):
            ids[i, P - len(p):] = torch.tensor(p)
            pos[i, P - len(p):] = torch.arange(len(p))
            keep[i, P - len(p):] = True
        causal = torch.ones(P, P, dtype=torch.bool).tril()
        mask = causal[None, None] & keep[:, None, None, :]
        mask |= torch.eye(P, dtype=torch.bool)[None, None]  # padded rows see themselves (their output is unused)
        h, kv = forward(W, ids, pos, mask=mask, fused=True)
        B = G * samples
        pre = [(k.repeat_interleave(samples, 0), v.repeat_interleave(samples, 0)) for k, v in kv]
        gk = [torch.empty(B, H, new, hd) for _ in range(L)]
        gv = [torch.empty(B, H, new, hd) for _ in range(L)]
        lens = torch.tensor([len(p) for p in ps]).repeat_interleave(samples)
        keepB = keep.repeat_interleave(samples, 0)
        last = h[:, -1].repeat_interleave(samples, 0)
        done = torch.zeros(B, dtype=torch.bool)
        gen = torch.zeros(B, new, dtype=torch.long)
        n_out = torch.full((B,), new)
        for t in range(new):
            logits = last @ W["wte.weight"].T
            if sampling:
                tok = torch.multinomial(warp(logits, *sampling).softmax(-1), 1).squeeze(1)
            else:
                tok = logits.argmax(-1)
            gen[:, t] = tok
            stop = (tok == EOS) & ~done
            n_out[stop] = t
            done |= stop
            if t + 1 == new or bool(done.all()):
                break
            m = torch.cat([keepB, torch.ones(B, t + 1, dtype=torch.bool)], 1)[:, None, None, :]
            past = [[(pre[l][0], pre[l][1]) for l in range(L)], [(gk[l][:, :, :t], gv[l][:, :, :t]) for l in range(L)]]
            hh, kvn = forward(W, tok[:, None], (lens + t)[:, None], past=past, mask=m, fused=True)
            for l in range(L):
                gk[l][:, :, t] = kvn[l][0][:, :, 0]
                gv[l][:, :, t] = kvn[l][1][:, :, 0]
            last = hh[:, -1]
        for b in range(B):
            out.append(gen[b, :int(n_out[b])].tolist())
            tokens += int(n_out[b])
    return out, tokens


def main():
    if sys.argv[1] == "--memcpy":
        n = int(sys.argv[2]) << 20
        a, b = np.ones(n, dtype=np.uint8), np.empty(n, dtype=np.uint8)
        np.copyto(b, a)
        best = min((lambda t0: (np.copyto(b, a), time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(5))
        print(f"{n / best / 1e9:.2f}")
        return
    d, idf, new, samples = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    rest = sys.argv[5:]
    if rest[0] == "greedy":
        sampling, rest = None, rest[1:]
    else:
        sampling, rest = (float(rest[0]), int(rest[1]), float(rest[2])), rest[3:]
    group = int(rest[0]) if rest else 16
    torch.manual_seed(1)
    W = load(d, copy=False)
    prompts = [json.loads(l)["ids"] for l in open(idf)]
    t0 = time.perf_counter()
    with torch.inference_mode():
        out, tokens = generate(W, prompts, new, samples, sampling, group)
    print(json.dumps({"seconds": time.perf_counter() - t0, "tokens": tokens, "ids": out}))


if __name__ == "__main__":
    main()
