"""The JSON Schemas in schemas/ and `invscale validate` must accept and reject
the same records of tests/data/schema/ (each record says what it expects in
"_expect").  Uses Debian's python3-jsonschema.
Usage: schema_test.py INVSCALE SCHEMAS_DIR CORPUS_DIR"""
import json
import os
import subprocess
import sys
import tempfile

import jsonschema

invscale, schemas, corpus = sys.argv[1:4]
failures = checked = 0
for t in ("classification", "sequence_prob", "logodds", "absolute_logodds"):
    with open(os.path.join(schemas, f"{t}.schema.json"), encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    seen = set()
    with open(os.path.join(corpus, f"{t}.jsonl"), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            record = json.loads(line)
            expect = record["_expect"] == "valid"
            by_schema = validator.is_valid(record)
            with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as tmp:
                tmp.write(line)
            run = subprocess.run([invscale, "validate", "--type", t, "--min-examples", "0", "--format", "json", tmp.name],
                                 capture_output=True, text=True)
            os.unlink(tmp.name)
            report = json.loads(run.stdout)
            by_invscale = report["valid"]
            if run.returncode != (0 if by_invscale else 1):
                print(f"{t}:{n}: exit status {run.returncode} does not match valid={by_invscale}")
                failures += 1
            if not (expect == by_schema == by_invscale):
                print(f"{t}:{n}: expected {'valid' if expect else 'invalid'}, jsonschema says {by_schema}, "
                      f"invscale says {by_invscale} {report['errors']}")
                failures += 1
            seen.add(expect)
            checked += 1
    if seen != {True, False}:
        print(f"{t}: the corpus must hold both valid and invalid records")
        failures += 1
print(f"{checked} records checked against 4 schemas: {failures} disagreements")
sys.exit(1 if failures else 0)
