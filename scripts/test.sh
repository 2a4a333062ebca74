#!/usr/bin/env bash
# The test suite: installs the Vulkan CPU driver for the WGPU tests when it is missing, then
# runs every test of the workspace (unit, integration, doc) with the release profile.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! ls /usr/share/vulkan/icd.d/lvp_icd.*.json >/dev/null 2>&1 || ! ldconfig -p | grep -q 'libvulkan.so.1'; then
  echo "installing Mesa's Vulkan drivers (lavapipe) for the WGPU tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mesa-vulkan-drivers libvulkan1
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ld4lg-target}"
# Mesa's Vulkan loader wants a runtime directory; without one it prints harmless errors.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
cargo test --release --workspace --features wgpu "$@"
