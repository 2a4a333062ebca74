#!/usr/bin/env bash
# Class-conditional generation on Yelp: for each guidance weight and class, generates N samples
# and scores them with `ld4lg eval-class` (classifier accuracy, pool BLEU against the class's
# validation split, diversity, duplicates, copies of training sentences, length).
# Usage: scripts/eval_sentiment.sh RUN_DIR [N] [STEPS] [OUT_DIR]
# Environment: WEIGHTS (default "1 1.5 2 3 5"), SAMPLER (dpm++, ddim or ddpm; default dpm++),
# CLASSIFIER (default models/yelp/classifier.bin), GENERATE_FLAGS (more flags for
# `ld4lg generate`, e.g. "--guidance-rescale 0.7 --beam 4").
set -euo pipefail
source "$(dirname "$0")/common.sh"
run=${1:?usage: eval_sentiment.sh RUN_DIR [N] [STEPS] [OUT_DIR]}
n=${2:-500}
steps=${3:-50}
out=${4:-$run/eval-sentiment}
classifier=${CLASSIFIER:-models/yelp/classifier.bin}
weights=${WEIGHTS:-1 1.5 2 3 5}
sampler=${SAMPLER:-dpm++}
mkdir -p "$out"
for w in $weights; do
  for class in negative positive; do
    file="$out/samples-$sampler-$class-w$w.txt"
    start=$(date +%s%N)
    "$ld4lg" generate --checkpoint "$run" --class "$class" --guidance "$w" -n "$n" \
      ${GENERATE_FLAGS:-} --sampler "$sampler" --steps "$steps" --seed 1 --batch-size 100 --out "$file" 2>/dev/null
    end=$(date +%s%N)
    echo "### class $class, guidance $w: $n samples, $steps $sampler steps, $(( (end - start) / 1000000 )) ms (Flex, batch 100)"
    "$ld4lg" eval-class --samples "$file" --class "$class" --classifier "$classifier" \
      --references "data/yelp/valid.$class.txt" \
      --train data/yelp/train.negative.txt.gz --train data/yelp/train.positive.txt.gz
    echo
  done
done
