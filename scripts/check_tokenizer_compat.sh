#!/usr/bin/env bash
# Trains each kind of tokenizer on the bundled E2E training split with the CLI, encodes the
# E2E dev references, and checks that Python's `tokenizers` gives identical ids.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
# --all-targets: the same feature resolution as the test build, so nothing is rebuilt.
cargo build --release --workspace --all-targets --features wgpu
ld4lg="$target/release/ld4lg"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work/dev.txt" <<'PY'
import csv, gzip, sys
with gzip.open("data/e2e/devset.csv.gz", "rt", newline="", encoding="utf-8") as f, open(sys.argv[1], "w", encoding="utf-8") as out:
    for row in csv.DictReader(f):
        out.write(row["ref"].replace("\n", " ") + "\n")
PY
for kind in bpe wordpiece wordlevel; do
  "$ld4lg" tokenizer train --corpus data/e2e/trainset.csv.gz --format e2e --kind "$kind" \
    --vocab-size 4000 --out "$work/$kind.json"
  "$ld4lg" tokenizer encode --tokenizer "$work/$kind.json" --input "$work/dev.txt" --json > "$work/$kind.jsonl"
  python3 scripts/check_tokenizer_compat.py "$work/$kind.json" "$work/$kind.jsonl"
done
