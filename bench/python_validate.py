"""What a researcher would use instead of invscale validate: jsonschema with
invscale's own schema, line by line.  Usage: python_validate.py SCHEMA FILE"""
import json
import sys

import jsonschema

with open(sys.argv[1], encoding="utf-8") as f:
    validator = jsonschema.Draft202012Validator(json.load(f))
bad = 0
with open(sys.argv[2], encoding="utf-8") as f:
    for n, line in enumerate(f, 1):
        for error in validator.iter_errors(json.loads(line)):
            bad += 1
print(f"{n} lines, {bad} errors")
