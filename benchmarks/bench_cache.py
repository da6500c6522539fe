"""Benchmark: reloading an unchanged reference file from the cache vs parsing it.

Run::

    python benchmarks/bench_cache.py

For each file, in one process: the first read_references (cold: parse + store) and the
median of five cached reloads (the file's bytes are still read and hashed each time,
so the cache is never trusted without checking the content). The cache goes to a fresh
temporary folder so earlier runs do not help.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_references import REAL_FILES, SHARED, _clear_caches, synthetic_bib

os.environ["LBPEVIDENCE_CACHE_DIR"] = tempfile.mkdtemp(prefix="lbp-cache-bench-")
import lbpevidence as lbp


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="lbp-bench-"))
    synthetic = tmp / "synthetic_10000.bib"
    synthetic.write_text(synthetic_bib(10_000), encoding="utf-8")
    files = [(n, SHARED / n) for n in REAL_FILES if (SHARED / n).exists()] + [("synthetic 10,000", synthetic)]
    refs = lbp.bundled_refs() / "studies.bib"
    files.insert(0, ("refs/studies.bib", refs))
    print(f"{'file':22s} {'entries':>8s} {'parse s':>9s} {'cached s':>9s} {'speed-up':>9s}")
    for label, path in files:
        _clear_caches()
        start = time.perf_counter()
        table = lbp.read_references(path, strict=False, schema="bibliography")[0]
        cold = time.perf_counter() - start
        warm = []
        for _ in range(5):
            start = time.perf_counter()
            lbp.read_references(path, strict=False, schema="bibliography")
            warm.append(time.perf_counter() - start)
        hot = statistics.median(warm)
        print(f"{label:22s} {len(table):8d} {cold:9.3f} {hot:9.4f} {cold / hot:8.0f}x")


if __name__ == "__main__":
    main()
