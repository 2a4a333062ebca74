#!/usr/bin/env bash
# Packs what continuing the three shipped denoisers on a remote GPU machine needs beyond the
# checkout: in .gpu/ (ignored by git) a small WGPU-only build of the CLI (profile `bundle`: fat
# LTO, one codegen unit, stripped) and constant-learning-rate training configurations (any
# stop is a usable checkpoint); in .gl/ the Vulkan loader and GL dispatch packages. The models and corpora
# travel as the checkout's own tracked files, which continue.sh reads in place. Checks that
# all of it fits the device tool's 64 MiB limit on what travels. Then, with the device tool:
# run `bash scripts/gpu/continue.sh SECONDS BATCH LR GEN` with carry [".gpu", ".gl"].
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ld4lg-target}"
cargo build --profile bundle -p ld4lg-cli --no-default-features --features wgpu
rm -rf .gpu && mkdir -p .gpu
# The x86 branch filter makes machine code compress better (8.9 → 8.2 MB).
xz --x86 --lzma2=preset=9e -c "$CARGO_TARGET_DIR/bundle/ld4lg" > .gpu/ld4lg.xz
# The Vulkan loader, for a machine that has the NVIDIA driver but no loader (device README).
if ! ls .gl/libvulkan1_*.deb > /dev/null 2>&1; then
  exclude=$(git rev-parse --git-path info/exclude)
  mkdir -p "$(dirname "$exclude")" .gl /tmp/amd64/partial
  grep -qx '/.gl/' "$exclude" 2> /dev/null || echo /.gl/ >> "$exclude"
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  # The loader alone finds no adapter: NVIDIA's Vulkan driver also needs the GL dispatch libraries.
  apt-get $o update -qq && (cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi
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
# What travels: tracked files, untracked files git does not ignore, and the carried .gpu/ and
# .gl/ (Vulkan loader packages, when a session fetched them as the device README says).
tracked=$(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)
untracked=$( (git ls-files -z --others --exclude-standard | xargs -0 -r du -cb | tail -1 | cut -f1) || true)
carried=$(du -cb .gpu $( [ -d .gl ] && echo .gl ) | tail -1 | cut -f1)
total=$(( tracked + ${untracked:-0} + carried ))
limit=$(( 64 * 1024 * 1024 ))
awk -v t="$tracked" -v u="${untracked:-0}" -v c="$carried" -v s="$total" 'BEGIN {
  printf "travels: %d tracked + %d untracked + %d carried = %.1f MiB (limit 64 MiB)\n", t, u, c, s / 1048576 }'
if (( total > limit )); then
  echo "too large for the device tool: remove untracked files or shrink the bundle" >&2
  exit 1
fi
