#!/usr/bin/env bash
# Where the CPU time of a training step or of generation goes, by kind of work: samples the
# `throughput` example with perf (software clock, 999 Hz, both threads) and sums the samples
# of each function into a category. Needs perf (Debian: linux-perf).
#
#   bash scripts/bench/profile.sh denoiser          # or autoencoder, lm, generate
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ld4lg-target}"
WHAT=${1:-denoiser}
cargo build --release --example throughput
data=$(mktemp)
trap 'rm -f "$data"' EXIT
if [ "$WHAT" = generate ]; then
  args=(--what generate --samples 100 --batch 50)
else
  args=(--what "$WHAT" --steps 10 --warmup 2)
fi
RAYON_NUM_THREADS=${RAYON_NUM_THREADS:-2} perf record -q -e cpu-clock -F 999 -o "$data" \
  "$CARGO_TARGET_DIR/release/examples/throughput" "${args[@]}" > /dev/null
perf report -i "$data" --no-children --sort dso,symbol --stdio -g none 2> /dev/null | python3 -c '
import re, sys
categories = [
    ("matrix products (gemm kernels and packing)", r"gemm"),
    ("GELU (fused kernel: erf, exp)", r"gelu|erf|expf|__exp"),
    ("element-wise and reductions (Flex kernels)", r"burn_flex|macerator|zip_|binary_op|unary_op|scalar_op|reduce"),
    ("copies and fills (memmove, memset, layout copies)", r"memmove|memset|memcpy|copy_2d"),
    ("allocation (malloc, page faults, zeroing pages)", r"malloc|free|page|mm_fault|clear_page|mmap|munmap|brk|anonymous"),
    ("thread pool (rayon, futex, scheduling)", r"rayon|futex|sched|schedule|task_switch|spin|yield|wake|syscall"),
    ("autodiff graph and dispatch", r"burn_autodiff|burn_dispatch|burn_backend|burn_tensor|hashbrown|Arc|drop_in_place"),
]
totals = {name: 0.0 for name, _ in categories}
other = 0.0
others = []
for line in sys.stdin:
    m = re.match(r"\s+([0-9.]+)%\s+(\S+)\s+\[.\]\s+(.*)", line)
    if not m:
        continue
    share, symbol = float(m.group(1)), m.group(2) + " " + m.group(3)
    for name, pattern in categories:
        if re.search(pattern, symbol):
            totals[name] += share
            break
    else:
        other += share
        if share >= 0.5:
            others.append((share, symbol[:90]))
print("| kind of work | share of CPU samples |")
print("|---|---|")
for name, _ in categories:
    print(f"| {name} | {totals[name]:.1f} % |")
print(f"| other | {other:.1f} % |")
for share, symbol in sorted(others, reverse=True):
    print(f"  other: {share:.1f} % {symbol}", file=sys.stderr)
'
