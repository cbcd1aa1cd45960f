"""Reads an exported CSV the way the prize's pipeline does (pandas.read_csv,
then ast.literal_eval of classes) and checks every task field against the
JSONL export of the same examples.  Usage: pandas_check.py FILE.csv FILE.jsonl"""
import ast
import json
import sys

import pandas

csv_path, jsonl_path = sys.argv[1:3]
frame = pandas.read_csv(csv_path, keep_default_na=False)
with open(jsonl_path, encoding="utf-8") as f:
    want = [json.loads(line) for line in f]
assert len(frame) == len(want), f"{len(frame)} CSV rows, {len(want)} JSONL records"
for i, (row, rec) in enumerate(zip(frame.to_dict("records"), want)):
    for key in ("prompt", "other_prompt", "completion"):
        if key in rec:
            assert row[key] == rec[key], f"row {i}: {key} {row[key]!r} != {rec[key]!r}"
    if "classes" in rec:
        classes = ast.literal_eval(row["classes"])
        assert classes == rec["classes"], f"row {i}: classes {classes!r} != {rec['classes']!r}"
        assert int(row["answer_index"]) == rec["answer_index"], f"row {i}: answer_index"
print(f"{csv_path}: {len(frame)} rows read back by pandas + ast.literal_eval match")
