#!/usr/bin/env bash
# Packs what continuing the three shipped denoisers on a remote GPU machine needs into .gpu/
# (ignored by git): a stripped WGPU build of the CLI, the shipped models (no classifier), the
# training corpora, the dev meaning representations and constant-learning-rate training
# configurations (any stop is a usable checkpoint). About 64 MB (57 MB measured in session 10,
# before the 7 MB seq2seq autoencoder was added). Then, on the GPU machine:
# `bash scripts/gpu/continue.sh SECONDS BATCH LR GEN`.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ld4lg-target}"
cargo build --release -p ld4lg-cli --features wgpu
bin="$CARGO_TARGET_DIR/release/ld4lg"
rm -rf .gpu && mkdir -p .gpu/models
objcopy --strip-all "$bin" .gpu/ld4lg
xz -T0 -6 .gpu/ld4lg
"$bin" e2e-sources data/e2e/devset.csv --out .gpu/mrs.txt
for m in e2e e2e-seq2seq yelp; do
  mkdir -p ".gpu/models/$m"
  cp -r "models/$m/diffusion" "models/$m/tokenizer.json" ".gpu/models/$m/"
done
for m in e2e e2e-seq2seq yelp; do cp -r "models/$m/autoencoder" ".gpu/models/$m/"; done
tar cJf .gpu/data.tar.xz data/e2e/trainset.csv data/yelp/train.negative.txt data/yelp/train.positive.txt
python3 - <<'PY'
import json
for name, source in [("e2e", "configs/e2e-diffusion.json"),
                     ("e2e-seq2seq", "configs/e2e-seq2seq.json"),
                     ("yelp", "configs/yelp-diffusion.json")]:
    config = json.load(open(source))
    training = config["training"]
    training["lr"] = {"peak": 2e-4, "warmup_steps": 100, "decay": "constant", "min_ratio": 1.0}
    training["validate_every"] = 500
    training["checkpoint_every"] = 100
    config["preview_samples"] = 2
    json.dump(config, open(f".gpu/cfg-{name}.json", "w"), indent=1)
PY
du -sh .gpu
