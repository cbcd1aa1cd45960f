"""The Python peers on the same judgments file: NLTK's AnnotationTask.alpha,
or statsmodels' fleiss_kappa on the item x category count table.  The time
measured by the caller includes loading the libraries and the file.
Usage: python_agreement.py nltk|statsmodels FILE"""
import csv
import sys

tool, path = sys.argv[1:3]
with open(path, newline="") as f:
    rows = list(csv.reader(f))[1:]
if tool == "nltk":
    from nltk.metrics.agreement import AnnotationTask
    task = AnnotationTask(data=[(a, i, l) for i, a, l in rows])
    print(f"alpha {task.alpha():.6f}")
else:
    import numpy as np
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa
    items, labels = {}, {}
    for i, a, l in rows:
        items.setdefault(i, []).append(labels.setdefault(l, len(labels)))
    table, _ = aggregate_raters(np.array(list(items.values())))
    print(f"fleiss {fleiss_kappa(table):.6f}")
