"""Benchmark: read_references vs bibtexparser's bare parse, on real and synthetic files.

Run::

    python benchmarks/bench_references.py                 # real files + 10k synthetic
    python benchmarks/bench_references.py --sizes 10000 100000 --repeat 5

For each file, in the same process and alternating the readers run by run, it reports
the best CPU time of ``--repeat`` runs (time.process_time), entries/s, and peak memory
(growth of the resident set in a fresh process) of

* ``bare``: ``bibtexparser.parse_file`` (default parse stack, no LaTeX decoding) + a
  DataFrame of the raw field values, as a bibtexparser user runs it;
* ``bare-nogc``: the same with Python's cyclic garbage collector paused, as
  ``read_references`` pauses it (so the ratio against it shows what is left once that
  advantage is taken away);
* ``ours``: ``lbpevidence.read_references(strict=False, schema="bibliography")``, which
  also resolves macros, decodes LaTeX, parses authors and validates;

and the ratios ours/bare: of the best times, and the median of the per-round ratios
(each round runs the readers back to back, so both see the same machine state). On this
2-core VM the speed of the same CPU-bound loop drifts up to 2x for seconds at a time;
best-of-N and paired ratios are what stays stable, and ``--instructions`` adds a count of
machine instructions under valgrind, which does not drift at all. Caches are cleared before every
timed run so repeated runs measure parsing, not memoisation. Synthetic files are generated
deterministically from a seed (LaTeX accents, @string macros, comments, nested braces,
custom fields).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import bibtexparser
import pandas as pd

import lbpevidence as lbp
from lbpevidence import latex, names

SHARED = Path(__file__).resolve().parents[2] / "shared" / "bench-bibs"
REAL_FILES = ["cdl.bib", "tugboat.bib", "manabibliography.bib"]

_SURNAMES = ["M{\\\"u}ller", "Garc{\\'i}a", "Nguyen", "O'Sullivan", "{\\O}stergaard", "Smith", "Kov{\\'a}cs",
             "Pe{\\~n}a", "Dupont", "van der Berg", "{\\L}ukasz", "Brontë", "Zhang", "Schr{\\\"o}dinger"]
_GIVEN = ["Anna", "J{\\'e}r{\\^o}me", "Li", "Hans Peter", "Mar{\\'\\i}a", "K.", "Zo{\\\"e}", "R. J."]
_WORDS = ["randomized", "trial", "of", "{MedX}", "exercise", "acupuncture", "for", "chronic", "low", "back",
          "pain", "caf{\\'e}", "\\emph{in vivo}", "{\\TeX}", "meta-analysis", "{{nested {braces}}}", "na{\\\"\\i}ve"]


def synthetic_bib(entries: int, seed: int = 2026) -> str:
    """A deterministic BibTeX file with ``entries`` entries and realistic markup."""
    rng = random.Random(seed)
    parts = ["%% synthetic benchmark file\n",
             '@string{spine = "Spine"}\n@string{lancet = "The {L}ancet"}\n@string{jama = "JAMA"}\n\n']
    journals = ["spine", "lancet", "jama", "{Arch Intern Med}", '"BMJ"', "{Ann Intern Med}"]
    for i in range(entries):
        authors = " and ".join(f"{rng.choice(_SURNAMES)}, {rng.choice(_GIVEN)}" for _ in range(rng.randint(1, 8)))
        title = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(5, 14)))
        if i % 50 == 0:
            parts.append(f"% comment before entry {i}\n")
        year = rng.randint(1970, 2025)
        parts.append(
            f"@article{{key{i},\n  author = {{{authors}}},\n  title = {{{title}}},\n"
            f"  journal = {rng.choice(journals)},\n  year = {year},\n  volume = {{{rng.randint(1, 400)}}},\n"
            f"  pages = {{{(p := rng.randint(1, 2000))}--{p + rng.randint(1, 20)}}},\n"
            f"  doi = {{10.{rng.randint(1000, 9999)}/x{i}}},\n  custom_note = {{note {i} with \\% and \\&}},\n}}\n\n"
        )
    return "".join(parts)


def _clear_caches(collect: bool = True) -> None:
    """Forget memoised decodings (so a run parses, not looks up), and collect garbage unless told not to."""
    latex.decode_latex.cache_clear()
    names.format_name.cache_clear()
    names._split_authors_cached.cache_clear()
    names.initials.cache_clear()
    if collect:
        gc.collect()


def bare(path: Path) -> pd.DataFrame:
    library = bibtexparser.parse_file(str(path))
    return pd.DataFrame([{"key": e.key, **{f.key: f.value for f in e.fields}} for e in library.entries])


def bare_nogc(path: Path) -> pd.DataFrame:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return bare(path)
    finally:
        if was_enabled:
            gc.enable()


def ours(path: Path) -> pd.DataFrame:
    return lbp.read_references(path, strict=False, schema="bibliography")[0]



def measure(func, path: Path, memory: bool) -> tuple[float, float, int]:
    """(seconds, peak MiB or nan, rows).

    Memory is the growth of the peak resident set size (VmHWM, reset after the imports)
    in a fresh process that runs the reader once; tracemalloc would slow the parse
    several-fold and miss memory held outside Python's allocator.
    """
    _clear_caches()
    start = time.process_time()  # CPU time of this process: steadier than wall time on a shared machine
    rows = len(func(path))
    seconds = time.process_time() - start
    peak = _peak_rss_mib(func.__name__, path) if memory else float("nan")
    return seconds, peak, rows


_CHILD = """
import sys
sys.path.insert(0, {bench!r})
import bench_references as b


def hwm():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))


# The peak RSS a child inherits from its (large) parent at fork would hide the reader's own
# peak: reset the high-water mark after the imports (Linux: /proc/self/clear_refs, value 5).
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")
before = hwm()
getattr(b, {name!r})(b.Path({path!r}))
print((hwm() - before) / 1024)
"""


def _peak_rss_mib(name: str, path: Path) -> float:
    import os
    import subprocess

    env = {**os.environ, "LBPEVIDENCE_NO_CACHE": "1"}
    code = _CHILD.format(bench=str(Path(__file__).resolve().parent), name=name, path=str(path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return float(out.stdout.strip())


_COUNT_CHILD = """
import sys
sys.path.insert(0, {bench!r})
import bench_references as b
path = b.Path({path!r})
path.read_bytes()  # the file is in the page cache for both runs
if {name!r} != "setup":
    getattr(b, {name!r})(path)
"""


def instructions(name: str, path: Path) -> int:
    """Machine instructions one run of reader ``name`` executes (valgrind's cachegrind), setup excluded.

    Deterministic where time is not: a child that imports everything and runs the reader, minus
    a child that only imports. PYTHONHASHSEED is fixed so set and dict layouts repeat.
    """
    import re
    import shutil
    import subprocess

    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    counts = []
    for which in ("setup", name):
        code = _COUNT_CHILD.format(bench=str(Path(__file__).resolve().parent), name=which, path=str(path))
        env = {**os.environ, "LBPEVIDENCE_NO_CACHE": "1", "PYTHONHASHSEED": "0"}
        out = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                              sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        counts.append(int(re.search(r"I\s+refs:\s+([\d,]+)", out.stderr).group(1).replace(",", "")))
    return counts[1] - counts[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--instructions", action="store_true",
                        help="also count instructions under valgrind (slow: about a minute per reader and file)")
    args = parser.parse_args(argv)
    os.environ["LBPEVIDENCE_NO_CACHE"] = "1"  # measure parsing, not the cache (bench_cache.py does that)
    files: list[tuple[str, Path]] = [(n, SHARED / n) for n in REAL_FILES if (SHARED / n).exists()]
    tmp = Path(tempfile.mkdtemp(prefix="lbp-bench-"))
    for size in args.sizes:
        path = tmp / f"synthetic_{size}.bib"
        path.write_text(synthetic_bib(size), encoding="utf-8")
        files.append((f"synthetic {size:,}", path))
    print(f"{'file':20s} {'entries':>7s} {'bare s':>7s} {'nogc s':>7s} {'ours s':>7s} {'ratio':>6s} {'median':>6s} "
          f"{'r/nogc':>6s} {'ours/s':>7s} {'bare MiB':>8s} {'ours MiB':>8s} {'mem':>5s}")
    for label, path in files:
        times: dict[str, list[float]] = {"bare": [], "bare_nogc": [], "ours": []}
        for _ in range(args.repeat):  # alternate so all see the same machine state
            for func in (bare, bare_nogc, ours):
                times[func.__name__].append(measure(func, path, False)[0])
        memory = not args.no_memory
        _, bare_mem, _ = measure(bare, path, memory)
        _, our_mem, n_ours = measure(ours, path, memory)
        tb, tn, to = (min(times[name]) for name in ("bare", "bare_nogc", "ours"))
        paired = statistics.median(o / b for o, b in zip(times["ours"], times["bare"], strict=True))
        print(f"{label:20s} {n_ours:7d} {tb:7.2f} {tn:7.2f} {to:7.2f} {to / tb:6.2f} {paired:6.2f} {to / tn:6.2f} "
              f"{n_ours / to:7.0f} {bare_mem:8.1f} {our_mem:8.1f} "
              f"{our_mem / bare_mem if bare_mem else float('nan'):5.2f}")
        if args.instructions:
            counts = {name: instructions(name, path) for name in ("bare", "bare_nogc", "ours")}
            giga = {name: f"{count / 1e9:.2f} G" for name, count in counts.items()}
            print(f"{'':20s} instructions: bare {giga['bare']}, bare-nogc {giga['bare_nogc']}, ours {giga['ours']}, "
                  f"ratio {counts['ours'] / counts['bare']:.3f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
