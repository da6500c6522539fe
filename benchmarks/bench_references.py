"""Benchmark: read_references vs bibtexparser's bare parse, on real and synthetic files.

Run::

    python benchmarks/bench_references.py                 # real files + 10k synthetic
    python benchmarks/bench_references.py --sizes 10000 100000 --repeat 3

For each file, in the same process and alternating the two readers, it reports the
best CPU time of ``--repeat`` runs (time.process_time, steadier than wall time on a shared
machine), entries/s, and peak memory (growth of the resident set in a fresh process) of

* ``bare``: ``bibtexparser.parse_file`` (default parse stack, no LaTeX decoding) + a
  DataFrame of the raw field values, and
* ``ours``: ``lbpevidence.read_references(strict=False, schema="bibliography")``, which
  also resolves macros, decodes LaTeX, parses authors and validates;

and the ratios ours/bare. Caches are cleared before every timed run so repeated runs
measure parsing, not memoisation. Synthetic files are generated deterministically
from a seed (LaTeX accents, @string macros, comments, nested braces, custom fields).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
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


def _clear_caches() -> None:
    latex.decode_latex.cache_clear()
    names.format_name.cache_clear()
    names._split_authors_cached.cache_clear()
    names.initials.cache_clear()
    gc.collect()


def bare(path: Path) -> pd.DataFrame:
    library = bibtexparser.parse_file(str(path))
    return pd.DataFrame([{"key": e.key, **{f.key: f.value for f in e.fields}} for e in library.entries])


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-memory", action="store_true")
    args = parser.parse_args(argv)
    os.environ["LBPEVIDENCE_NO_CACHE"] = "1"  # measure parsing, not the cache (bench_cache.py does that)
    files: list[tuple[str, Path]] = [(n, SHARED / n) for n in REAL_FILES if (SHARED / n).exists()]
    tmp = Path(tempfile.mkdtemp(prefix="lbp-bench-"))
    for size in args.sizes:
        path = tmp / f"synthetic_{size}.bib"
        path.write_text(synthetic_bib(size), encoding="utf-8")
        files.append((f"synthetic {size:,}", path))
    print(f"{'file':22s} {'entries':>8s} {'bare s':>8s} {'ours s':>8s} {'ratio':>6s} {'bare/s':>8s} "
          f"{'ours/s':>8s} {'bare MiB':>9s} {'ours MiB':>9s} {'mem ratio':>9s}")
    for label, path in files:
        bare_times, our_times = [], []
        for _ in range(args.repeat):  # alternate so both see the same machine load
            bare_times.append(measure(bare, path, False)[0])
            our_times.append(measure(ours, path, False)[0])
        memory = not args.no_memory
        _, bare_mem, n_bare = measure(bare, path, memory)
        _, our_mem, n_ours = measure(ours, path, memory)
        tb, to = min(bare_times), min(our_times)
        print(f"{label:22s} {n_ours:8d} {tb:8.2f} {to:8.2f} {to / tb:6.2f} {n_bare / tb:8.0f} {n_ours / to:8.0f} "
              f"{bare_mem:9.1f} {our_mem:9.1f} {our_mem / bare_mem if bare_mem else float('nan'):9.2f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
