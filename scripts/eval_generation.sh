#!/usr/bin/env bash
# Generates 1000 unconditional samples from a trained run with several samplers and step
# counts, and scores each set against the E2E dev references (beside 1000 human references).
# Usage: scripts/eval_generation.sh RUN_DIR [OUT_DIR]
set -euo pipefail
source "$(dirname "$0")/common.sh"
run=${1:?usage: eval_generation.sh RUN_DIR [OUT_DIR]}
out=${2:-$run/eval}
mkdir -p "$out"
for spec in "dpm++ 50" "dpm++ 10" "dpm++ 25" "dpm++ 100" "dpm++ 250" "dpm++3m 50" "ddim 50" "ddpm 50" "ddpm 250"; do
  set -- $spec
  file="$out/samples-$1-$2.txt"
  start=$(date +%s%N)
  "$ld4lg" generate --checkpoint "$run" -n 1000 --sampler "$1" --steps "$2" --seed 1 --batch-size 100 --out "$file" 2>/dev/null
  end=$(date +%s%N)
  echo "### $1, $2 steps: 1000 samples in $(( (end - start) / 1000000 )) ms (Flex, batch 100)"
  "$ld4lg" eval --samples "$file"
  echo
done
