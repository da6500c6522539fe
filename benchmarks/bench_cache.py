"""Benchmark: reloading an unchanged reference file from the cache vs parsing it.

Run::

    python benchmarks/bench_cache.py
    python benchmarks/bench_cache.py --repeat 15

For each file, in one process and alternating run by run: a parse with the cache turned
off (``LBPEVIDENCE_NO_CACHE=1``), and a reload of the same file from a warm cache (its
bytes are still read and hashed each time, so the cache is never trusted without checking
the content). Best CPU time of ``--repeat`` runs each (time.process_time, as in
bench_references.py: this VM's speed drifts 2x for seconds at a time) and the median of the
per-round ratios; then reloads in a row (no parse in between to evict the CPU caches), as
a program that reads the same table again and again sees them. refs/studies.bib is read
with its own schema (``studies``), the others as ``bibliography``. The first read that
fills the cache (parse + write) is shown once. The cache goes to a fresh temporary folder
so earlier runs do not help.
"""

from __future__ import annotations

import argparse
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


def _cpu(read, path: Path, schema: str) -> float:
    # No gc.collect() before the run: it hands freed memory back to the system, and the next run
    # pays page faults for it (a cached reload of refs/studies.bib went from 1.7 to 3.0 ms).
    _clear_caches(collect=False)
    start = time.process_time()
    read(path, strict=False, schema=schema)
    return time.process_time() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="lbp-bench-"))
    synthetic = tmp / "synthetic_10000.bib"
    synthetic.write_text(synthetic_bib(10_000), encoding="utf-8")
    files = [(n, SHARED / n) for n in REAL_FILES if (SHARED / n).exists()] + [("synthetic 10,000", synthetic)]
    refs = lbp.bundled_refs() / "studies.bib"
    files.insert(0, ("refs/studies.bib", refs))
    print(f"{'file':22s} {'entries':>8s} {'first s':>8s} {'parse s':>8s} {'cached s':>9s} {'speed-up':>9s} "
          f"{'median':>7s} {'in a row s':>10s} {'speed-up':>9s}")
    for label, path in files:
        schema = "studies" if path == refs else "bibliography"  # each file read the way the library reads it
        _clear_caches()
        start = time.process_time()
        table = lbp.read_references(path, strict=False, schema=schema)[0]  # parse + write the cache
        first = time.process_time() - start
        parse, cached = [], []
        for _ in range(args.repeat):
            os.environ["LBPEVIDENCE_NO_CACHE"] = "1"
            parse.append(_cpu(lbp.read_references, path, schema))
            del os.environ["LBPEVIDENCE_NO_CACHE"]
            cached.append(_cpu(lbp.read_references, path, schema))
        paired = statistics.median(p / c for p, c in zip(parse, cached, strict=True))
        in_a_row = min(_cpu(lbp.read_references, path, schema) for _ in range(5 * args.repeat))
        print(f"{label:22s} {len(table):8d} {first:8.3f} {min(parse):8.3f} {min(cached):9.4f} "
              f"{min(parse) / min(cached):8.0f}x {paired:6.0f}x {in_a_row:10.4f} {min(parse) / in_a_row:8.0f}x")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
