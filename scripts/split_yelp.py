"""Carves deterministic train / valid / test splits out of the Yelp sentiment release.

Usage: python3 scripts/split_yelp.py ../shared/data/yelp data/yelp
Each class is shuffled with a fixed seed; 1000 sentences per class go to `valid` (tuning,
reference pool), 1000 to `test` (held out: classifier accuracy, style-transfer sources),
the rest to `train` (gzip-compressed, `train.*.txt.gz`: the bulk of the corpus). Exact
duplicates are dropped first so no sentence crosses splits.
"""
import gzip
import random
import sys

src, dst = sys.argv[1], sys.argv[2]
for index, name in [(0, "negative"), (1, "positive")]:
    with open(f"{src}/sentiment.dev.{index}", encoding="utf-8") as f:
        lines = [l.strip() for l in f if l.strip()]
    unique = list(dict.fromkeys(lines))
    random.Random(1234 + index).shuffle(unique)
    splits = {"valid": unique[:1000], "test": unique[1000:2000], "train": unique[2000:]}
    for split, rows in splits.items():
        text = ("\n".join(rows) + "\n").encode("utf-8")
        if split == "train":
            # mtime 0 and no file name: the same bytes on every run.
            with open(f"{dst}/{split}.{name}.txt.gz", "wb") as raw, gzip.GzipFile(
                filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0
            ) as f:
                f.write(text)
        else:
            with open(f"{dst}/{split}.{name}.txt", "wb") as f:
                f.write(text)
        print(name, split, len(rows), "(of", len(lines), "lines,", len(unique), "unique)")
