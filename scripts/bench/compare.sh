#!/usr/bin/env bash
# Side-by-side throughput of ld4lg and a PyTorch twin of the same models, in one run on one
# machine: the denoiser, autoencoder and language-model training steps of the shipped E2E
# configurations (1 and 2 threads), and generation of SAMPLES unconditional E2E samples with
# 50 DPM-Solver++ steps at batch BATCH (denoising and decoding timed apart). Each measurement
# alternates ld4lg and the twin, so both see the same machine state. Prints a Markdown table
# and writes every measurement as a JSON line to bench-results.jsonl (or $RESULTS).
#
#   bash scripts/bench/compare.sh                 # steps=20 per measurement
#   STEPS=10 SAMPLES=500 bash scripts/bench/compare.sh
#
# Needs PyTorch for the twin (`pip install torch`; benchmarks only, never tests or CI).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ld4lg-target}"
STEPS=${STEPS:-20}
WARMUP=${WARMUP:-4}
SAMPLES=${SAMPLES:-1000}
BATCH=${BATCH:-250}
DEVICE=${DEVICE:-flex}
RESULTS=${RESULTS:-bench-results.jsonl}
python3 -c 'import torch' 2>/dev/null || {
  echo "the twin needs PyTorch: pip install torch" >&2
  exit 1
}
cargo build --release --example throughput
ours="$CARGO_TARGET_DIR/release/examples/throughput"
: > "$RESULTS"
lengths=$(mktemp)
trap 'rm -f "$lengths"' EXIT
for threads in 1 2; do
  for what in denoiser autoencoder lm; do
    RAYON_NUM_THREADS=$threads "$ours" --device "$DEVICE" --what $what --steps "$STEPS" --warmup "$WARMUP" | tee -a "$RESULTS"
    python3 scripts/bench/twin.py --what $what --threads $threads --steps "$STEPS" --warmup "$WARMUP" | tee -a "$RESULTS"
  done
done
RAYON_NUM_THREADS=2 "$ours" --device "$DEVICE" --what generate --samples "$SAMPLES" --batch "$BATCH" --lengths-out "$lengths" | tee -a "$RESULTS"
python3 scripts/bench/twin.py --what generate --threads 2 --batch "$BATCH" --lengths "$lengths" | tee -a "$RESULTS"
python3 - "$RESULTS" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
def find(system, what, threads):
    return next(r for r in rows if r["system"] == system and r["what"] == what and r["threads"] == threads)
print()
print("| work | threads | ld4lg | PyTorch | ld4lg / PyTorch |")
print("|---|---|---|---|---|")
for what in ["denoiser", "autoencoder", "lm"]:
    for threads in [1, 2]:
        a, b = find("ld4lg", what, threads), find("pytorch", what, threads)
        print(f"| {what} train step | {threads} | {a['seconds_per_step']:.3f} s | "
              f"{b['seconds_per_step']:.3f} s | {a['seconds_per_step'] / b['seconds_per_step']:.2f}× |")
for what in ["denoiser", "autoencoder", "lm"]:
    one, two = find("ld4lg", what, 1), find("ld4lg", what, 2)
    t1, t2 = find("pytorch", what, 1), find("pytorch", what, 2)
    print(f"| {what}: speed-up 1 → 2 threads | | {one['seconds_per_step'] / two['seconds_per_step']:.2f}× | "
          f"{t1['seconds_per_step'] / t2['seconds_per_step']:.2f}× | |")
a, b = find("ld4lg", "generate", 2), find("pytorch", "generate", 2)
for key, label in [("denoise_seconds", "denoising"), ("decode_seconds", "greedy decoding")]:
    print(f"| generation, {label} ({a['samples']} samples, batch {a['batch']}) | 2 | "
          f"{a[key]:.1f} s | {b[key]:.1f} s | {a[key] / b[key]:.2f}× |")
print(f"| generation, tokens/s | 2 | {a['tokens_per_second']:.0f} | {b['tokens_per_second']:.0f} | "
      f"{b['tokens_per_second'] / a['tokens_per_second']:.2f}× (time) |")
PY
