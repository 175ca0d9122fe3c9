#!/usr/bin/env python3
"""What the tests ask of sabot's JSON.

  json_check.py schema KIND [FILE]   validate FILE (default: stdin) against
                                     agent/schema/KIND.schema.json; exit 1
                                     with the first error when it fails
  json_check.py get FILE EXPR        print EXPR, a Python expression over the
                                     document d (FILE - is stdin); exit 1 when
                                     it raises, 2 when it is false
"""
import json
import math
import os
import sys

import jsonschema

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def strict_load(f):
    # Python's json accepts NaN and Infinity; JSON does not.
    def bad(c):
        raise ValueError("not JSON: %s" % c)
    return json.load(f, parse_constant=bad)


def load(path):
    if path == "-":
        return strict_load(sys.stdin)
    with open(path) as f:
        return strict_load(f)


def main(argv):
    if len(argv) >= 2 and argv[0] == "schema":
        with open(os.path.join(TOP, "agent", "schema", argv[1] + ".schema.json")) as f:
            schema = json.load(f)
        doc = load(argv[2] if len(argv) > 2 else "-")
        v = jsonschema.Draft202012Validator(schema)
        errors = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
        if errors:
            e = errors[0]
            print("%s: %s at /%s" % (argv[1], e.message, "/".join(str(p) for p in e.absolute_path)),
                  file=sys.stderr)
            return 1
        return 0
    if len(argv) == 3 and argv[0] == "get":
        d = load(argv[1])
        r = eval(argv[2], {"d": d, "math": math})
        print(json.dumps(r) if not isinstance(r, str) else r)
        return 0 if r or r == 0 and not isinstance(r, bool) else 2
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (ValueError, KeyError, IndexError, TypeError, OSError) as e:
        print("json_check: %s" % e, file=sys.stderr)
        sys.exit(1)
