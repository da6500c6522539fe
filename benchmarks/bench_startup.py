"""Benchmark: cold-process start of ``lbpevidence validate`` and ``import lbpevidence``.

Run::

    python benchmarks/bench_startup.py            # 7 fresh processes per command
    python benchmarks/bench_startup.py --runs 15

Every command runs in a fresh interpreter (nothing imported, nothing memoised); the table
shows the median and best wall time of ``--runs`` runs, interleaved, and the ratio to the
bare interpreter start (``python -c pass``) measured in the same session. ``validate`` runs
on the bundled refs/ twice over: with an empty cache folder each time (nothing cached: the
parser and pandas are imported and every file is read), and with a warm cache (the
problems-only cache answers; pandas is not imported). The target (issue 9) is under 1 s wall.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _run(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    base_env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    warm_cache = tempfile.mkdtemp(prefix="lbp-startup-warm-")
    python = sys.executable
    validate = [python, "-m", "lbpevidence", "validate"]
    subprocess.run(validate, env={**base_env, "LBPEVIDENCE_CACHE_DIR": warm_cache}, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fills the warm cache
    commands = {
        "python -c pass (baseline)": ([python, "-c", "pass"], None),
        "import lbpevidence": ([python, "-c", "import lbpevidence"], None),
        "import pandas": ([python, "-c", "import pandas"], None),
        "validate, nothing cached": (validate, "fresh"),
        "validate, warm cache": (validate, warm_cache),
    }
    times: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(args.runs):
        for label, (command, cache) in commands.items():
            env = dict(base_env)
            fresh = None
            if cache == "fresh":
                fresh = tempfile.mkdtemp(prefix="lbp-startup-cold-")
                env["LBPEVIDENCE_CACHE_DIR"] = fresh
            elif cache:
                env["LBPEVIDENCE_CACHE_DIR"] = cache
            times[label].append(_run(command, env))
            if fresh:
                shutil.rmtree(fresh, ignore_errors=True)
    baseline = statistics.median(times["python -c pass (baseline)"])
    print(f"{'command':28s} {'median s':>9s} {'best s':>7s} {'x python':>9s}")
    for label, values in times.items():
        median = statistics.median(values)
        print(f"{label:28s} {median:9.3f} {min(values):7.3f} {median / baseline:9.1f}")
    shutil.rmtree(warm_cache, ignore_errors=True)


if __name__ == "__main__":
    main()
