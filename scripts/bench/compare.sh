#!/usr/bin/env bash
# Side-by-side throughput of ld4lg and a PyTorch twin of the same models, in one run on one
# machine: the denoiser, autoencoder and language-model training steps of the shipped E2E
# configurations (1 and 2 threads), and generation of unconditional E2E samples with 50
# DPM-Solver++ steps (denoising and decoding timed apart). Builds the `throughput` example,
# then scripts/bench/compare.py alternates ld4lg and the twin, ROUNDS times, and prints a
# Markdown table of medians; every measurement is kept as a JSON line in $RESULTS.
#
#   bash scripts/bench/compare.sh
#   ROUNDS=1 STEPS=10 SAMPLES=250 bash scripts/bench/compare.sh      # quicker
#   BACKENDS="flex tch" bash scripts/bench/compare.sh                 # also the LibTorch backend
#
# The twin needs PyTorch (`pip install torch`; benchmarks only, never tests or CI). The `tch`
# backend links the LibTorch of a PyTorch that tch 0.22 accepts (2.9.0): TORCH_SITE names the
# directory that holds it (`pip install --target DIR torch==2.9.0`); it is built in its own
# target directory, $CARGO_TARGET_DIR-tch.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ld4lg-target}"
BACKENDS=${BACKENDS:-flex}
python3 -c 'import torch' 2>/dev/null || {
  echo "the twin needs PyTorch: pip install torch" >&2
  exit 1
}
binaries=()
for backend in $BACKENDS; do
  case $backend in
    flex)
      cargo build --release --example throughput
      binaries+=("flex=$CARGO_TARGET_DIR/release/examples/throughput")
      ;;
    tch)
      site=${TORCH_SITE:?set TORCH_SITE to a directory holding torch 2.9.0 (pip install --target DIR torch==2.9.0)}
      LIBTORCH_USE_PYTORCH=1 PYTHONPATH="$site" CARGO_TARGET_DIR="$CARGO_TARGET_DIR-tch" \
        cargo build --release --example throughput --features tch
      binaries+=("tch=$CARGO_TARGET_DIR-tch/release/examples/throughput")
      # LibTorch's libraries, and the CUDA libraries its wheel links, for the loader.
      libs="$site/torch/lib"
      for dir in "$site"/nvidia/*/lib; do [ -d "$dir" ] && libs="$libs:$dir"; done
      export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
      ;;
    *)
      echo "unknown backend $backend (expected flex or tch)" >&2
      exit 1
      ;;
  esac
done
python3 scripts/bench/compare.py "${binaries[@]}"
