"""The two readings of a logprobs: line (simdjson fast path, cJSON) against
each other and against Python's json, on 60,000 generated lines made to sit
where JSON readers part: numbers of every form and length, keys differing in
case, escaped keys, repeated keys, nested and non-ASCII values, whitespace,
trailing garbage.  Every line the fast path takes must be read the same by
cJSON (checked by the driver) and by Python (checked here), bit for bit.
Usage: logprobs_lines_test.py LOGPROBS_CHECK_BINARY"""
import json
import random
import subprocess
import sys

random.seed(11)


def digits(n):
    return "".join(random.choice("0123456789") for _ in range(n))


def num():
    r = random.random()
    if r < 0.3:
        return repr(-random.expovariate(0.3))
    if r < 0.4:
        return "%.3e" % -random.expovariate(0.3)
    if r < 0.5:
        return random.choice(["-0", "0", "-0.0", "0.0", "-1", "1e-400", "-1e-400", "-1E5", "-1e+2", "-.5", "-01.5",
                              "1.", "-2.5e", "1e999", "-1e308", "-4.9e-324", "-2.2250738585072011e-308", "NaN"])
    if r < 0.6:
        return "-" + digits(random.randint(1, 80)) + "." + digits(random.randint(1, 80))
    if r < 0.7:
        return "-0." + digits(random.randint(1, 30)) + "e-" + str(random.randint(0, 400))
    return "%.17g" % -random.random()


def key(k):
    r = random.random()
    if r < 0.05:
        return k.upper()
    if r < 0.08:
        return k[:1].upper() + k[1:]
    if r < 0.1:
        return k.replace("e", "\\u0065")
    return k


def ws():
    return random.choice(["", "", " ", "  ", "\t", " \r"])


lines = []
for _ in range(60000):
    nc = random.randint(0, 5)
    parts = [('"%s"' % key("index"), random.choice(["0", "0", "0.0", "1", "-0", "0e0", "00", '"0"'])),
             ('"%s"' % key("class_logprobs"), "[" + ",".join(ws() + num() + ws() for _ in range(nc)) + "]")]
    if random.random() < 0.3:
        parts.append(('"%s"' % key("completion_logprob"), num()))
    if random.random() < 0.3:
        parts.append(('"%s"' % key("prompt_class_logprobs"), "[%s,%s]" % (num(), num())))
    if random.random() < 0.3:
        parts.append(('"%s"' % key("other_prompt_class_logprobs"), "[%s,%s]" % (num(), num())))
    if random.random() < 0.2:
        parts.append(('"x"', random.choice(['"\u00e9\u4e2d"', "null", "true", '[1,[2,{"a":3}]]', '"\\ud800"', '"a\\"b"', "{}"])))
    if random.random() < 0.05:
        parts.append(parts[1])
    random.shuffle(parts)
    line = "{" + ",".join(ws() + k + ws() + ":" + ws() + v + ws() for k, v in parts) + "}"
    if random.random() < 0.03:
        line += random.choice([" x", ",", "}", " {}"])
    lines.append(line)

res = subprocess.run([sys.argv[1]], input="\n".join(lines) + "\n", capture_output=True, text=True)
fields = {0: ["class_logprobs"], 1: ["completion_logprob"], 2: ["prompt_class_logprobs", "other_prompt_class_logprobs"]}
taken, bad = 0, []
for out in res.stdout.splitlines():
    if out.startswith("DIFF"):
        bad.append("cJSON reads it differently: " + out)
        continue
    w = out.split()
    line, t, got = lines[int(w[0]) - 1], int(w[1]), [float.fromhex(x) for x in w[2:]]
    taken += 1
    try:
        d = json.loads(line)
    except ValueError:
        bad.append("Python rejects a line the fast path took: " + line)
        continue
    want = []
    for f in fields[t]:
        want += d[f] if isinstance(d[f], list) else [d[f]]
    if d["index"] != 0 or [float(x).hex() for x in want] != [x.hex() for x in got]:
        bad.append("values differ from Python's: %s -> %s" % (line, got))
print("%d lines, %d fast readings, %d problems" % (len(lines), taken, len(bad)))
for b in bad[:10]:
    print("  " + b)
sys.exit(1 if bad or res.returncode or taken < 10000 else 0)
