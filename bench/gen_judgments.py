"""Writes judgments item,annotator,label for ITEMS items x 5 annotators and 3
labels; each annotator is right with its own accuracy; MISSING is the share of
judgments left out.  Usage: gen_judgments.py ITEMS MISSING OUT.csv"""
import random
import sys

items, missing, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
rng = random.Random(5)
labels = ["a", "b", "c"]
accuracy = [0.9, 0.8, 0.75, 0.7, 0.6]
with open(out, "w") as f:
    f.write("item,annotator,label\n")
    for i in range(items):
        truth = rng.randrange(3)
        for w, acc in enumerate(accuracy):
            if rng.random() < missing:
                continue
            lab = truth if rng.random() < acc else rng.choice([x for x in range(3) if x != truth])
            f.write(f"i{i},w{w},{labels[lab]}\n")
