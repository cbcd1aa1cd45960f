"""What a researcher would write instead of invscale ingest: stdlib csv,
ast.literal_eval for classes, sqlite3 executemany in one transaction.
Usage: python_loader.py IN.csv OUT.db"""
import ast
import csv
import sqlite3
import sys

src, out = sys.argv[1], sys.argv[2]
db = sqlite3.connect(out)
db.execute("CREATE TABLE examples (prompt TEXT, classes TEXT, answer_index INTEGER, round TEXT, part TEXT)")


def rows():
    with open(src, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        for prompt, classes, answer, rnd, part in reader:
            parsed = ast.literal_eval(classes)
            yield prompt, repr(parsed), int(answer), rnd, part


with db:
    db.executemany("INSERT INTO examples VALUES (?, ?, ?, ?, ?)", rows())
print(db.execute("SELECT count(*) FROM examples").fetchone()[0])
