"""Writes a GPT-2-shaped model directory with random weights: config.json,
model.safetensors (F32) and tokenizer.json (the real GPT-2 vocabulary, from
the shared fixtures).  The weights come from a counter-based hash (splitmix64
of each weight's index, seeded by the tensor's name), not a library RNG, so
the files are byte-identical on any machine.
Usage: make_model.py OUT_DIR [--layers 12 --width 768 --heads 12 --context 1024]
       [--fixtures ../shared/fixtures]"""
import argparse
import json
import os
import shutil
import struct
import zlib

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--layers", type=int, default=12)
ap.add_argument("--width", type=int, default=768)
ap.add_argument("--heads", type=int, default=12)
ap.add_argument("--context", type=int, default=1024)
ap.add_argument("--fixtures", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "fixtures"))
a = ap.parse_args()
V, C, L, T = 50257, a.width, a.layers, a.context
M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


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
os.makedirs(a.out, exist_ok=True)
header, offset = {}, 0
names = sorted(tensors)
for n in names:
    shape = tensors[n][0]
    size = 4 * int(np.prod(shape))
    header["transformer." + n] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size]}
    offset += size
hb = json.dumps(header, separators=(",", ":")).encode()
hb += b" " * (-len(hb) % 8)  # the data starts 8-byte aligned
with open(os.path.join(a.out, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(hb)) + hb)
    for n in names:
        shape, scale, off = tensors[n]
        f.write(weights(n, shape, scale, off).tobytes())
json.dump({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_layer": L, "n_embd": C, "n_head": a.heads,
           "n_positions": T, "vocab_size": V, "n_inner": None, "activation_function": "gelu_new",
           "layer_norm_epsilon": 1e-5, "bos_token_id": 50256, "eos_token_id": 50256},
          open(os.path.join(a.out, "config.json"), "w"), indent=2)
tok = os.path.join(a.fixtures, "hf-reference", "tokenizers", "gpt2.json")
if os.path.exists(tok):
    shutil.copy(tok, os.path.join(a.out, "tokenizer.json"))
print(f"{a.out}: gpt2, {L} layers, width {C}, {sum(int(np.prod(t[0])) for t in tensors.values())} parameters")
