"""Runs ld4lg's `throughput` example and the PyTorch twin (`twin.py`) alternately and prints
a Markdown table of medians over rounds. Called by `compare.sh` with BACKEND=BINARY arguments.

Environment: ROUNDS (3), STEPS (20 timed steps per measurement), WARMUP (4), SAMPLES (1000
generated samples, measured once), BATCH (250), RESULTS (bench-results.jsonl).
"""

import json
import os
import statistics
import subprocess
import sys

ROUNDS = int(os.environ.get("ROUNDS", "3"))
STEPS = os.environ.get("STEPS", "20")
WARMUP = os.environ.get("WARMUP", "4")
SAMPLES = os.environ.get("SAMPLES", "1000")
BATCH = os.environ.get("BATCH", "250")
RESULTS = os.environ.get("RESULTS", "bench-results.jsonl")
TWIN = [sys.executable, os.path.join(os.path.dirname(__file__), "twin.py")]
WORK = ["denoiser", "autoencoder", "lm"]


def run(command, threads):
    # Both libraries see the same thread count: rayon (Flex) and OpenMP (PyTorch, LibTorch).
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    row = json.loads(out.strip().splitlines()[-1])
    with open(RESULTS, "a") as f:
        f.write(json.dumps(row) + "\n")
    print(json.dumps(row), file=sys.stderr)
    return row


def main():
    binaries = dict(arg.split("=", 1) for arg in sys.argv[1:])
    open(RESULTS, "w").close()
    steps = {}  # (system, what, threads) -> [seconds per step]
    for _ in range(ROUNDS):
        for threads in (1, 2):
            for what in WORK:
                for backend, binary in binaries.items():
                    row = run([binary, "--device", backend, "--what", what, "--steps", STEPS,
                               "--warmup", WARMUP], threads)
                    steps.setdefault((backend, what, threads), []).append(row["seconds_per_step"])
                row = run(TWIN + ["--what", what, "--threads", str(threads), "--steps", STEPS,
                                  "--warmup", WARMUP], threads)
                steps.setdefault(("pytorch", what, threads), []).append(row["seconds_per_step"])
    generation = {}
    lengths = RESULTS + ".lengths.json"
    for backend, binary in binaries.items():
        generation[backend] = run([binary, "--device", backend, "--what", "generate",
                                   "--samples", SAMPLES, "--batch", BATCH,
                                   "--lengths-out", lengths], 2)
    generation["pytorch"] = run(TWIN + ["--what", "generate", "--threads", "2", "--batch", BATCH,
                                        "--lengths", lengths], 2)
    os.remove(lengths)

    systems = list(binaries) + ["pytorch"]
    median = {key: statistics.median(values) for key, values in steps.items()}
    header = " | ".join(f"ld4lg {b}" if b != "pytorch" else "PyTorch twin" for b in systems)
    ratios = " | ".join(f"{b} / PyTorch" for b in binaries)
    print(f"\nMedians of {ROUNDS} rounds, {STEPS} steps each after {WARMUP} warm-up steps.\n")
    print(f"| training step | threads | {header} | {ratios} |")
    print("|---|---|" + "---|" * (len(systems) + len(binaries)))
    for what in WORK:
        for threads in (1, 2):
            times = [median[(s, what, threads)] for s in systems]
            cells = " | ".join(f"{t:.3f} s" for t in times)
            rel = " | ".join(f"{median[(b, what, threads)] / times[-1]:.2f}×" for b in binaries)
            print(f"| {what} | {threads} | {cells} | {rel} |")
    print(f"\n| speed-up from 1 to 2 threads | {' | '.join(systems)} |")
    print("|---|" + "---|" * len(systems))
    for what in WORK:
        cells = " | ".join(
            f"{median[(s, what, 1)] / median[(s, what, 2)]:.2f}×" for s in systems)
        print(f"| {what} | {cells} |")
    g = generation["pytorch"]
    print(f"\nGeneration: {g['samples']} samples, batch {g['batch']}, {g['sampler_steps']} "
          f"DPM-Solver++ steps, 2 threads, greedy decoding.\n")
    print(f"| | {' | '.join(systems)} |")
    print("|---|" + "---|" * len(systems))
    for key, label in [("denoise_seconds", "denoising"), ("decode_seconds", "decoding")]:
        print(f"| {label} | " + " | ".join(f"{generation[s][key]:.1f} s" for s in systems) + " |")
    print("| tokens per second | "
          + " | ".join(f"{generation[s]['tokens_per_second']:.0f}" for s in systems) + " |")


if __name__ == "__main__":
    main()
