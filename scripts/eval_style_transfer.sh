#!/usr/bin/env bash
# Style transfer on Yelp: the first N negative test sentences are edited under the positive
# class (noise to strength s, denoise with guidance w); reports how many the independent
# classifier now calls positive and BLEU-4 of each edit against its source.
# Usage: scripts/eval_style_transfer.sh RUN_DIR [N] [GUIDANCE] [STEPS] [OUT_DIR]
set -euo pipefail
source "$(dirname "$0")/common.sh"
run=${1:?usage: eval_style_transfer.sh RUN_DIR [N] [GUIDANCE] [STEPS] [OUT_DIR]}
n=${2:-500}
w=${3:-3}
steps=${4:-25}
out=${5:-$run/eval-style}
classifier=${CLASSIFIER:-models/yelp/classifier.bin}
mkdir -p "$out"
head -n "$n" data/yelp/test.negative.txt > "$out/sources.txt"
for s in 0.3 0.45 0.6 0.75; do
  "$ld4lg" edit --checkpoint "$run" --class positive --strength "$s" --guidance "$w" \
    --steps "$steps" --seed 1 --input "$out/sources.txt" --out "$out/edited-s$s.txt"
  echo "### strength $s, guidance $w, $steps steps, $n negative test sentences -> positive"
  "$ld4lg" eval-class --samples "$out/edited-s$s.txt" --class positive --classifier "$classifier" \
    --references data/yelp/valid.positive.txt --sources "$out/sources.txt" \
    | grep -E 'attribute|BLEU-4 to source|pool BLEU'
  paste -d '\n' <(head -n 3 "$out/sources.txt") <(head -n 3 "$out/edited-s$s.txt") | sed 's/^/    /'
done
