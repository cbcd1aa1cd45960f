"""ivs_dtoa against Python's repr (the text pandas writes), on edge cases and
200,000 random doubles (random bit patterns and random values in the ranges
losses and log-probs take).  Usage: dtoa_test.py DTOA_CHECK_BINARY"""
import random
import struct
import subprocess
import sys

random.seed(7)
vals = [0.0, -0.0, 1.0, -1.0, 0.1, 1 / 3, 1e-4, 9.999999999999999e-05, 1e-5, 1e15, 9999999999999998.0, 1e16,
        1e22, 1e100, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, float("inf"), float("-inf"),
        0.3132616875182228, 123456789012345680.0, 2.5e-7, 100.0, 12345.678]
for _ in range(100000):
    bits = random.getrandbits(64)
    v = struct.unpack("<d", struct.pack("<Q", bits))[0]
    if v == v:  # NaN payloads all print "nan"
        vals.append(v)
for _ in range(100000):
    vals.append(-random.expovariate(0.2) if random.random() < 0.5 else random.uniform(0, 30))
inp = "".join("%016x\n" % struct.unpack("<Q", struct.pack("<d", v))[0] for v in vals)
out = subprocess.run([sys.argv[1]], input=inp, capture_output=True, text=True, check=True).stdout.split("\n")
bad = [(repr(v), g) for v, g in zip(vals, out) if repr(v) != g]
print("%d values, %d differ from Python's repr" % (len(vals), len(bad)))
for r, g in bad[:10]:
    print("  python %s, invscale %s" % (r, g))
sys.exit(1 if bad or len(out) < len(vals) else 0)
