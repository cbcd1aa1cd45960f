"""loss_plot.svg as a reader sees it: rendered by rsvg-convert (librsvg) to
a PNG of the SVG's size, it is not blank, each series' colour is there (the
points of two families), and the SVG has what the plot promises: ticks at
decades in human units and each model's size, y ticks with values, the
legend, the verdict with slope and interval, the baseline's value, and
labels of models with close sizes that do not overlap.
Usage: plot_png_test.py INVSCALE_BINARY"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib

BIN = sys.argv[1]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def read_png(path):
    """width, height and rows of (r, g, b, a) of an 8-bit RGB/RGBA PNG."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    assert depth == 8 and ctype in (2, 6) and not interlace, (depth, ctype, interlace)
    bpp = 4 if ctype == 6 else 3
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) + ((line[x * bpp + 3],) if bpp == 4 else (255,)) for x in range(w)])
        prev = line
    return w, h, rows


work = tempfile.mkdtemp()
os.chdir(work)
with open("task.jsonl", "w") as f:
    for i in range(40):
        f.write(json.dumps({"prompt": "Q%d: well?" % i, "classes": [" yes", " no"], "answer_index": i % 2}) + "\n")
# two families; pythia-160m and pythia-200m close together
models = [("pythia-70m", "fake:1"), ("pythia-160m", "fake:1.2"), ("pythia-200m", "fake:1.3@2e8"), ("pythia-1b", "fake:1.6"),
          ("opt-125m", "fake:2"), ("opt-1.3b", "fake:1.5")]
args = [BIN, "eval", "task.jsonl", "--out", "out", "--bootstrap", "100"]
for name, be in models:
    args += ["--model", "%s=%s" % (name, be)]
p = subprocess.run(args, capture_output=True, text=True)
check(p.returncode == 0, "eval: " + (p.stdout + p.stderr).strip())
svg_path = os.path.join("out", "loss_plot.svg")
ns = {"s": "http://www.w3.org/2000/svg"}
root = ET.parse(svg_path).getroot()
texts = {}
for t in root.iter("{http://www.w3.org/2000/svg}text"):
    texts.setdefault(t.get("class"), []).append(t)
ticks = [t.text for t in texts.get("tick", [])]
check({"100M", "1B"} <= set(ticks), "x ticks at decades in human units: %s" % ticks)
check(any(t and t[0].isdigit() and "." in t for t in ticks), "y ticks with values")
labels = texts.get("model-label", [])
check(sorted(t.text for t in labels) == sorted("%s %s" % (n, s) for n, s in zip(
    [m for m, _ in models], ["70M", "160M", "200M", "1B", "125M", "1.3B"])), "each model named with its size")
# no two labels in one row overlap (the width estimate the plot uses is generous: 6.3 px a character)
boxes = [(float(t.get("y")), float(t.get("x")) - len(t.text) * 3.15, float(t.get("x")) + len(t.text) * 3.15) for t in labels]
overlap = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a[0] == b[0] and a[1] < b[2] and b[1] < a[2]]
check(not overlap, "model labels do not overlap: %s" % overlap)
check(sorted(t.text for t in texts.get("legend", [])) == ["opt", "pythia"], "a legend names the two families")
sub = " ".join(t.text for t in texts.get("subtitle", []))
summary = json.load(open("out/summary.json"))
check(sub.startswith(summary["trend"]["verdict"] + ":") and "95% CI" in sub and "per 10x parameters" in sub,
      "the subtitle gives the verdict, slope and interval: " + sub)
check(any(t.text == "baseline (guessing) %.4g" % summary["baseline"] for t in texts.get("baseline", [])),
      "the baseline labelled with its value")

rsvg = shutil.which("rsvg-convert")
check(rsvg is not None, "rsvg-convert is installed (Debian librsvg2-bin)")
if rsvg:
    r = subprocess.run([rsvg, svg_path, "-o", "plot.png"], capture_output=True, text=True)
    check(r.returncode == 0 and not r.stderr.strip(), "rsvg-convert renders it: " + r.stderr.strip())
    w, h, rows = read_png("plot.png")
    check((w, h) == (int(root.get("width")), int(root.get("height"))), "PNG of the SVG's size (%dx%d)" % (w, h))
    pixels = [px for row in rows for px in row]
    ink = sum(1 for px in pixels if px[3] > 0 and min(px[:3]) < 200)
    check(ink > w * h // 100, "not blank: %d dark pixels" % ink)
    white = sum(1 for px in pixels if px[:3] == (255, 255, 255) and px[3] == 255)
    check(white > w * h // 2, "a white page: %d white pixels" % white)
    for colour in {c.get("fill") for c in root.iter("{http://www.w3.org/2000/svg}circle") if c.get("class") == "model"}:
        rgb = tuple(int(colour[k:k + 2], 16) for k in (1, 3, 5))
        n = sum(1 for px in pixels if px[3] == 255 and all(abs(px[k] - rgb[k]) <= 2 for k in range(3)))
        check(n >= 50, "the points of colour %s are drawn (%d pixels)" % (colour, n))
print("%d failures" % len(failures))
sys.exit(1 if failures else 0)
