#!/usr/bin/env bash
# E2E data-to-text on dev: one output per distinct meaning representation, K candidates each;
# scores the first (random) candidate, the MBR picks and the oracle pick with multi-reference
# BLEU-4 and ROUGE-L (`ld4lg eval-seq2seq`).
# Usage: scripts/eval_seq2seq.sh RUN_DIR [K] [STEPS] [GUIDANCE] [OUT_DIR]
set -euo pipefail
source "$(dirname "$0")/common.sh"
run=${1:?usage: eval_seq2seq.sh RUN_DIR [K] [STEPS] [GUIDANCE] [OUT_DIR]}
k=${2:-5}
steps=${3:-50}
w=${4:-1}
out=${5:-$run/eval-seq2seq}
mkdir -p "$out"
"$ld4lg" e2e-sources data/e2e/devset.csv --out "$out/mrs.txt"
start=$(date +%s%N)
"$ld4lg" generate --checkpoint "$run" --source-file "$out/mrs.txt" --candidates "$k" --mbr \
  --steps "$steps" --guidance "$w" --seed 1 --batch-size 100 \
  --out "$out/mbr-w$w.txt" --candidates-out "$out/candidates-w$w.jsonl"
end=$(date +%s%N)
echo "### $(wc -l < "$out/mrs.txt") meaning representations × $k candidates, $steps DPM-Solver++ steps, guidance $w: $(( (end - start) / 1000000 )) ms (Flex)"
"$ld4lg" eval-seq2seq --sources "$out/mrs.txt" --candidates "$out/candidates-w$w.jsonl" \
  --outputs "$out/mbr-w$w.txt"
