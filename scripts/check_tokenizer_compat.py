#!/usr/bin/env python3
"""Check that a tokenizer.json written by ld4lg gives identical ids in Python's `tokenizers`.

Usage: check_tokenizer_compat.py TOKENIZER_JSON ENCODED_JSONL

ENCODED_JSONL holds one `{"text": ..., "ids": [...]}` object per line, as printed by
`ld4lg tokenizer encode --json`. Exits 1 on the first mismatch.
"""

import json
import sys

from tokenizers import Tokenizer


def main() -> int:
    tokenizer_path, encoded_path = sys.argv[1], sys.argv[2]
    tokenizer = Tokenizer.from_file(tokenizer_path)
    checked = 0
    with open(encoded_path, encoding="utf-8") as encoded:
        for number, line in enumerate(encoded, start=1):
            row = json.loads(line)
            python_ids = tokenizer.encode(row["text"]).ids
            if python_ids != row["ids"]:
                print(f"{encoded_path}:{number}: ids differ for {row['text']!r}")
                print(f"  rust:   {row['ids']}")
                print(f"  python: {python_ids}")
                return 1
            decoded = tokenizer.decode(python_ids, skip_special_tokens=True)
            if not decoded.strip():
                print(f"{encoded_path}:{number}: python decodes to empty text")
                return 1
            checked += 1
    if checked == 0:
        print(f"{encoded_path}: no rows to check")
        return 1
    print(f"python tokenizers: identical ids for all {checked} texts ({tokenizer_path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
