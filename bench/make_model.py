"""Writes GPT-2-shaped model directories with random weights, as the hub
stores them: config.json, model.safetensors (F32) and tokenizer.json (the real
GPT-2 vocabulary: ../shared/fixtures/gpt2-vocab/vocab.json and merges.txt, with
GPT-2's ByteLevel pre-tokenizer, post-processor and decoder and its
<|endoftext|>).  The weights come from a counter-based hash (splitmix64 of
each weight's index, seeded by the tensor's name), not a library RNG, so the
files are byte-identical on any machine and in any run.

Usage: make_model.py OUT_DIR [--layers 12 --width 768 --heads 12 --context 1024]
           (defaults: the GPT-2-124M shape; about 10 s and 500 MB)
       make_model.py --family OUT_DIR
           three small sizes, OUT_DIR/tiny-s, tiny-m, tiny-l (2 layers width 64,
           4 x 128, 6 x 192: 3.4M, 7.4M and 12.5M parameters, most of them the
           embedding; 95 MB, two or three seconds in all)
       [--fixtures ../shared/fixtures]"""
import argparse
import json
import os
import struct
import zlib

import numpy as np

FAMILY = {"tiny-s": (2, 64, 2), "tiny-m": (4, 128, 4), "tiny-l": (6, 192, 6)}  # layers, width, heads
V = 50257


def weights(name, shape, scale, offset=0.0):
    """Uniform in [offset - scale, offset + scale) from splitmix64(seed + i)."""
    n = int(np.prod(shape))
    seed = np.uint64(zlib.crc32(name.encode()) * 0x9E3779B97F4A7C15 & 0xFFFFFFFFFFFFFFFF)
    with np.errstate(over="ignore"):
        z = np.arange(n, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15) + seed
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(40)).astype(np.float64) / float(1 << 24)  # [0, 1)
    return (offset + scale * (2 * u - 1)).astype("<f4").reshape(shape)


def tokenizer_json(fixtures):
    """GPT-2's tokenizer.json (as the hub's gpt2 has it) from the vocabulary files, as bytes."""
    d = os.path.join(fixtures, "gpt2-vocab")
    vocab = json.load(open(os.path.join(d, "vocab.json"), encoding="utf-8"))
    with open(os.path.join(d, "merges.txt"), encoding="utf-8") as f:
        merges = [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#version")]
    if len(vocab) != V:
        raise SystemExit(f"{d}/vocab.json: {len(vocab)} tokens, expected {V}")
    byte_level = {"add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    tok = {"version": "1.0", "truncation": None, "padding": None,
           "added_tokens": [{"id": 50256, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
                             "rstrip": False, "normalized": True, "special": True}],
           "normalizer": None,
           "pre_tokenizer": dict(type="ByteLevel", **byte_level),
           "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
           "decoder": dict(type="ByteLevel", **byte_level),
           "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                     "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                     "vocab": dict(sorted(vocab.items(), key=lambda kv: kv[1])), "merges": merges}}
    return json.dumps(tok, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def write_model(out, L, C, H, T, tok):
    tensors = {"wte.weight": ((V, C), 0.02, 0.0), "wpe.weight": ((T, C), 0.01, 0.0),
               "ln_f.weight": ((C,), 0.1, 1.0), "ln_f.bias": ((C,), 0.02, 0.0)}
    for l in range(L):
        p = f"h.{l}."
        tensors.update({p + "ln_1.weight": ((C,), 0.1, 1.0), p + "ln_1.bias": ((C,), 0.02, 0.0),
                        p + "attn.c_attn.weight": ((C, 3 * C), 0.04, 0.0), p + "attn.c_attn.bias": ((3 * C,), 0.02, 0.0),
                        p + "attn.c_proj.weight": ((C, C), 0.02, 0.0), p + "attn.c_proj.bias": ((C,), 0.02, 0.0),
                        p + "ln_2.weight": ((C,), 0.1, 1.0), p + "ln_2.bias": ((C,), 0.02, 0.0),
                        p + "mlp.c_fc.weight": ((C, 4 * C), 0.04, 0.0), p + "mlp.c_fc.bias": ((4 * C,), 0.02, 0.0),
                        p + "mlp.c_proj.weight": ((4 * C, C), 0.02, 0.0), p + "mlp.c_proj.bias": ((C,), 0.02, 0.0)})
    os.makedirs(out, exist_ok=True)
    header, offset = {}, 0
    names = sorted(tensors)
    for n in names:
        shape = tensors[n][0]
        size = 4 * int(np.prod(shape))
        header["transformer." + n] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * (-len(hb) % 8)  # the data starts 8-byte aligned
    with open(os.path.join(out, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb)
        for n in names:
            shape, scale, off = tensors[n]
            f.write(weights(n, shape, scale, off).tobytes())
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_layer": L, "n_embd": C, "n_head": H,
                   "n_positions": T, "vocab_size": V, "n_inner": None, "activation_function": "gelu_new",
                   "layer_norm_epsilon": 1e-5, "bos_token_id": 50256, "eos_token_id": 50256}, f, indent=2)
    with open(os.path.join(out, "tokenizer.json"), "wb") as f:
        f.write(tok)
    print(f"{out}: gpt2, {L} layers, width {C}, {sum(int(np.prod(t[0])) for t in tensors.values())} parameters")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--family", action="store_true")
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--width", type=int, default=768)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--context", type=int, default=1024)
    ap.add_argument("--fixtures", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "fixtures"))
    a = ap.parse_args()
    if a.width % a.heads:
        raise SystemExit(f"--width {a.width} is not a multiple of --heads {a.heads}")
    tok = tokenizer_json(a.fixtures)
    if a.family:
        for name, (L, C, H) in FAMILY.items():
            write_model(os.path.join(a.out, name), L, C, H, a.context, tok)
    else:
        write_model(a.out, a.layers, a.width, a.heads, a.context, tok)


if __name__ == "__main__":
    main()
