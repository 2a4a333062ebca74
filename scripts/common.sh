# Sourced by the evaluation scripts: run from the repository root, and find the ld4lg binary
# ($LD4LG, else the release build in the shared target directory).
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ld4lg="${LD4LG:-${CARGO_TARGET_DIR:-$HOME/.cache/ld4lg-target}/release/ld4lg}"
