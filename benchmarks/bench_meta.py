"""Time the pooling code: REML + HKSJ (the default) against DerSimonian-Laird + Wald in the same run.

Run:  PYTHONPATH=src python benchmarks/bench_meta.py [--repeats N]

Simulated studies (seeded): true effects from N(-0.3, 0.1), within-study variances from
U(0.01, 0.2); one row puts vi = 1e11 on one study (where REML's stopping rule used to stop early),
one uses the modified HKSJ interval (its first column is then REML + hksj-modified). Each row of
the table is the median of the repeats, in milliseconds, for one call
of meta_analysis() (which includes the Q-profile CI of tau² and the prediction interval) or of
meta_by() over 1,000 groups of 5 studies. The target is REML + HKSJ on 1,000 studies under 50 ms.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from lbpevidence.meta import meta_analysis, meta_by


def simulate(k: int, seed: int = 20240601, groups: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.2, size=k)
    theta = rng.normal(-0.3, np.sqrt(0.1), size=k)
    yi = rng.normal(theta, np.sqrt(vi))
    frame = pd.DataFrame({"key": [f"s{i}" for i in range(k)], "yi": yi, "vi": vi, "usable": True,
                          "measure": "SMD"})
    if groups > 1:
        frame["group"] = np.repeat(np.arange(groups), k // groups)
    return frame


def median_ms(call: Callable[[], object], repeats: int) -> float:
    call()                                    # warm-up: imports, caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21, help="timed repeats per row (median reported)")
    args = parser.parse_args()

    print(f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
          f"{platform.machine()}; median of {args.repeats} repeats")
    print(f"{'workload':<36}{'REML+HKSJ ms':>14}{'DL+Wald ms':>12}")
    rows = []
    for k in (10, 100, 1_000, 10_000):
        data = simulate(k)
        reml = median_ms(lambda d=data: meta_analysis(d, method="REML", ci="hksj"), args.repeats)
        dl = median_ms(lambda d=data: meta_analysis(d, method="DL", ci="wald"), args.repeats)
        rows.append((f"meta_analysis, k = {k:,}", reml, dl))
    # issue #18: one study with a huge variance (the scale-free REML stop) and the modified HKSJ CI
    huge = simulate(1_000)
    huge.loc[0, "vi"] = 1e11
    reml = median_ms(lambda: meta_analysis(huge, method="REML", ci="hksj"), args.repeats)
    dl = median_ms(lambda: meta_analysis(huge, method="DL", ci="wald"), args.repeats)
    rows.append(("k = 1,000, one vi = 1e11", reml, dl))
    data = simulate(1_000)
    modified = median_ms(lambda: meta_analysis(data, method="REML", ci="hksj-modified"), args.repeats)
    dl = median_ms(lambda: meta_analysis(data, method="DL", ci="wald"), args.repeats)
    rows.append(("k = 1,000, REML + hksj-modified", modified, dl))
    grouped = simulate(5_000, groups=1_000)
    few = max(3, args.repeats // 5)           # meta_by is slower: fewer repeats
    reml = median_ms(lambda: meta_by(grouped, by="group", method="REML", ci="hksj"), few)
    dl = median_ms(lambda: meta_by(grouped, by="group", method="DL", ci="wald"), few)
    rows.append(("meta_by, 1,000 groups x 5 studies", reml, dl))
    for name, reml_ms, dl_ms in rows:
        print(f"{name:<36}{reml_ms:>14.2f}{dl_ms:>12.2f}")
    target = rows[2][1]
    print(f"target: REML + HKSJ on 1,000 studies under 50 ms -> {target:.2f} ms "
          f"({'met' if target < 50 else 'MISSED'})")


if __name__ == "__main__":
    main()
