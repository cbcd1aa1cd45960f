"""A prize-format classification task scored by PyTorch two ways, from token
ids made beforehand by invscale's tokenizer (bench/engine_task.py seqs; the
tokenization is not timed here).

  torch_task.py prize DIR SEQS.json [--first I] [--limit N]
      the prize pipeline's way: one forward per prompt+class sequence under
      torch.no_grad(), the logits of every position, log_softmax over the
      vocabulary at every position, the class's tokens picked out and summed
  torch_task.py best DIR SEQS.json [--group G]
      PyTorch at its best: torch.inference_mode(); the token prefix that all
      sequences of the task share (a few-shot demonstration) run once and its
      K/V reused by every example; per example the candidates' common token
      prefix (the prompt) run once, G examples batched (padded, masked); the
      candidates' remaining tokens run together in one masked batch on the
      prompts' K/V; the head and log_softmax only at the positions that
      predict a class token

Both use torch.set_num_threads(cores).  Prints one JSON object: mode,
seconds (scoring only: after the weights are loaded), load_seconds, first,
examples, sequence_tokens (the tokens of the prompt+class sequences scored),
forward_tokens (the tokens that went through the model, padding included),
logprobs (per example, per class)."""
import argparse
import json
import time

import torch

from torch_gpt2 import forward, load


def lcp(seqs):
    n = min(len(s) for s in seqs)
    first = seqs[0]
    for s in seqs[1:]:
        k = 0
        while k < n and s[k] == first[k]:
            k += 1
        n = k
    return n


def prize(W, examples):
    head = W["wte.weight"]
    out, fwd = [], 0
    with torch.no_grad():
        for ex in examples:
            lps = []
            for ids, n in ex:
                t = torch.tensor(ids)[None]
                h, _ = forward(W, t, torch.arange(len(ids))[None])
                logprobs = torch.log_softmax(h @ head.T, dim=-1)[0]  # [T, V]: every position
                target = t[0, -n:]
                lps.append(logprobs[len(ids) - n - 1:len(ids) - 1].gather(1, target[:, None]).sum().item())
                fwd += len(ids)
            out.append(lps)
    return out, fwd


def best(W, examples, group):
    head = W["wte.weight"]
    n_pos = W["cfg"]["n_positions"]
    allseqs = [s for ex in examples for s, _ in ex]
    # per example: P, the length of the prefix its candidates share (each keeps >= 1 token of its own)
    P = [min(lcp([s for s, _ in ex]), min(len(s) for s, _ in ex) - 1) for ex in examples]
    S = lcp(allseqs)
    S = S if S >= 32 else 0
    S = min(S, min(P) - 1) if S else 0
    out = [[0.0] * len(ex) for ex in examples]
    fwd = 0
    with torch.inference_mode():
        shared = []  # the demonstration's K/V, a batch of 1 that every example sees
        if S:
            _, kv = forward(W, torch.tensor(allseqs[0][:S])[None], torch.arange(S)[None], fused=True)
            shared, fwd = [kv], fwd + S
        for g0 in range(0, len(examples), group):
            exs = list(range(g0, min(g0 + group, len(examples))))
            B = len(exs)
            # the prompts: row b = example exs[b]'s tokens S..P_e, after the demonstration
            lens = [P[e] - S for e in exs]
            Tm = max(lens)
            ids = torch.zeros(B, Tm, dtype=torch.long)
            for b, e in enumerate(exs):
                ids[b, :lens[b]] = torch.tensor(examples[e][0][0][S:P[e]])
            pos = (S + torch.arange(Tm)).clamp(max=n_pos - 1).expand(B, Tm)
            valid = torch.arange(Tm)[None] < torch.tensor(lens)[:, None]  # [B, Tm]
            own = torch.ones(Tm, Tm, dtype=torch.bool).tril()[None] & valid[:, None, :]
            mask = torch.cat([torch.ones(B, Tm, S, dtype=torch.bool), own], 2)[:, None]
            hp, kvp = forward(W, ids, pos, shared, mask, fused=True)
            fwd += B * Tm
            # the candidates: row b = all of example exs[b]'s classes' remaining tokens one after
            # the other, each class seeing the demonstration, its prompt and its own tokens only
            spans = []  # per row: (class, start in the row, length)
            for e in exs:
                o, sp = 0, []
                for c, (sq, _) in enumerate(examples[e]):
                    sp.append((c, o, len(sq) - P[e]))
                    o += len(sq) - P[e]
                spans.append(sp)
            Lr = max(sp[-1][1] + sp[-1][2] for sp in spans)
            cids = torch.zeros(B, Lr, dtype=torch.long)
            cpos = torch.zeros(B, Lr, dtype=torch.long)
            cls_of = torch.full((B, Lr), -1, dtype=torch.long)
            for b, e in enumerate(exs):
                for c, o, n in spans[b]:
                    cids[b, o:o + n] = torch.tensor(examples[e][c][0][P[e]:])
                    cpos[b, o:o + n] = torch.arange(P[e], P[e] + n).clamp(max=n_pos - 1)
                    cls_of[b, o:o + n] = c
            same = (cls_of[:, :, None] == cls_of[:, None, :]) & (cls_of[:, None, :] >= 0)
            cown = same & torch.ones(Lr, Lr, dtype=torch.bool).tril()[None]
            cown |= torch.eye(Lr, dtype=torch.bool)[None]  # padding rows see themselves (ignored)
            cmask = torch.cat([torch.ones(B, Lr, S, dtype=torch.bool), valid[:, None, :].expand(B, Lr, Tm), cown], 2)[:, None]
            hc, _ = forward(W, cids, cpos, shared + [kvp], cmask, fused=True)
            fwd += B * Lr
            # the head where a class token is predicted: absolute position j predicts token j + 1
            hs, tgt, dest = [], [], []
            for b, e in enumerate(exs):
                for c, o, n in spans[b]:
                    sq, k = examples[e][c]
                    for j in range(len(sq) - k - 1, len(sq) - 1):
                        hs.append(hp[b, j - S] if j < P[e] else hc[b, o + j - P[e]])
                        tgt.append(sq[j + 1])
                        dest.append((e, c))
            lp = torch.log_softmax(torch.stack(hs) @ head.T, -1).gather(1, torch.tensor(tgt)[:, None])[:, 0].tolist()
            for (e, c), x in zip(dest, lp):
                out[e][c] += x
    return out, fwd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["prize", "best"])
    ap.add_argument("dir")
    ap.add_argument("seqs")
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--group", type=int, default=4)
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: the cores)")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    W = load(a.dir, copy=a.mode == "prize")
    t1 = time.perf_counter()
    examples = json.load(open(a.seqs))["examples"][a.first:]
    examples = examples[:a.limit] if a.limit else examples
    t2 = time.perf_counter()
    lps, fwd = prize(W, examples) if a.mode == "prize" else best(W, examples, a.group)
    t3 = time.perf_counter()
    print(json.dumps({"mode": a.mode, "seconds": t3 - t2, "load_seconds": t1 - t0, "first": a.first,
                      "examples": len(examples), "sequence_tokens": sum(len(s) for ex in examples for s, _ in ex),
                      "forward_tokens": fwd, "threads": torch.get_num_threads(), "logprobs": lps}))


if __name__ == "__main__":
    main()
