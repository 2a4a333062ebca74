#!/usr/bin/env bash
# E2E data-to-text on dev: one output per distinct meaning representation, K candidates each;
# scores the first (random) candidate, the MBR picks (also with the fluency term of a trigram
# model trained on the E2E training set) and the oracle pick with multi-reference BLEU-4 and
# ROUGE-L (`ld4lg eval-seq2seq`).
# Usage: scripts/eval_seq2seq.sh RUN_DIR [K] [STEPS] [GUIDANCE] [OUT_DIR]
# Environment: SAMPLER (dpm++, ddim or ddpm; default dpm++), LIMIT (only the first LIMIT
# meaning representations, for quick comparisons; default all), GENERATE_FLAGS (more flags
# for `ld4lg generate`, e.g. "--beam 4 --no-repeat-ngram 3").
set -euo pipefail
source "$(dirname "$0")/common.sh"
run=${1:?usage: eval_seq2seq.sh RUN_DIR [K] [STEPS] [GUIDANCE] [OUT_DIR]}
k=${2:-5}
steps=${3:-50}
w=${4:-1}
out=${5:-$run/eval-seq2seq}
sampler=${SAMPLER:-dpm++}
mkdir -p "$out"
"$ld4lg" e2e-sources data/e2e/devset.csv.gz --out "$out/mrs.txt"
if [[ -n "${LIMIT:-}" ]]; then
  head -n "$LIMIT" "$out/mrs.txt" > "$out/mrs.tmp" && mv "$out/mrs.tmp" "$out/mrs.txt"
fi
start=$(date +%s%N)
"$ld4lg" generate --checkpoint "$run" --source-file "$out/mrs.txt" --candidates "$k" --mbr \
  --sampler "$sampler" --steps "$steps" --guidance "$w" --seed 1 --batch-size 100 \
  ${GENERATE_FLAGS:-} --out "$out/mbr-$sampler-w$w.txt" --candidates-out "$out/candidates-$sampler-w$w.jsonl"
end=$(date +%s%N)
echo "### $(wc -l < "$out/mrs.txt") meaning representations × $k candidates, $steps $sampler steps, guidance $w: $(( (end - start) / 1000000 )) ms (Flex)"
"$ld4lg" eval-seq2seq --sources "$out/mrs.txt" --candidates "$out/candidates-$sampler-w$w.jsonl" \
  --outputs "$out/mbr-$sampler-w$w.txt" --fluency-corpus data/e2e/trainset.csv.gz
