"""Benchmark: the large hostile inputs of issue 16, each against a baseline measured in the same run.

Run::

    python benchmarks/bench_hostile.py                 # all cases, at the issue's sizes
    python benchmarks/bench_hostile.py --quick         # a tenth of the sizes
    python benchmarks/bench_hostile.py --src OTHER/src # the same cases on another checkout (before/after)

Every measurement runs in a fresh interpreter (``LBPEVIDENCE_NO_CACHE=1`` unless the case is
about the cache), so each has its own peak resident memory (``ru_maxrss``) and no warm state.
Times are CPU seconds of the child (``time.process_time``), as in bench_references.py. Cases:

``concat``
    One field of N ``#``-joined parts (``a # {y} # "z" # 1 ...``), read by ``parse_bibtex``.
    Baseline: the same value written as one braced literal (the parser's cost for that many
    characters). Linear when the time per part stays flat as N doubles.
``outcomes``
    outcomes.csv of N rows (the bundled rows, repeated), read by ``read_outcomes``.
    Baseline: ``pandas.read_csv(dtype=str)`` of the same file (reading the cells, no checks).
``add``
    ``lbpevidence add`` of one PubMed record into a studies.bib of about 18.7 MB (the bundled
    entries, repeated with new keys), three times in a row with the cache on, as a user adding
    records one by one: the first run starts with an empty cache. Baseline: one
    ``read_references`` parse of the same file without the cache.
``laughs``
    A file whose ``@string`` macros multiply (each is ten copies of the one before, L levels:
    10^(L+1) characters if expanded). The fixed code refuses it at 1 MiB; the 9-level case
    (10 GB) is skipped with ``--src`` unless ``--all`` (an old checkout runs out of memory).

Figures on this project's 2-core VM (CPU s; peak RSS), before = the checkout before issue 16
(``--src`` of commit 938e8bc), after = this one, both runs on the same day:

=====================================  ==========================  ==========================
case                                   before                      after
=====================================  ==========================  ==========================
concat, 250k / 500k / 1M parts         4.4 / 27.4 / 123.7 s        0.39 / 0.76 / 1.51 s
  per part (flat = linear)             17.6 / 54.8 / 123.7 us      1.5 / 1.5 / 1.5 us
  baseline: one literal, 1M chars      0.05 s                      0.05 s
outcomes, 250k / 500k / 1M rows        13.4 / 31.1 / 71.8 s        11.6 / 23.5 / 49.1 s
  per row                              53.5 / 62.3 / 71.7 us       46.3 / 47.0 / 49.1 us
  peak memory                          2.2 / 4.4 / 8.7 GB          0.7 / 1.3 / 2.5 GB
  baseline: pandas.read_csv, 1M rows   2.7 s, 1.0 GB               3.1 s, 1.0 GB (16x: the checks)
add to 18.7 MB (13,930 entries) x3     5.8 / 5.7 / 5.8 s           3.5 / 0.70 / 0.72 s
  baseline: one parse, no cache        2.6 s                       2.6 s
laughs, 10^7 / 10^8 chars              accepted: 0.15 s, 100 MB /  refused: 0.01 s, 91 MB
                                       accepted: 1.4 s, 367 MB     (both; 10^10 too)
=====================================  ==========================  ==========================
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, os, resource, sys, time
case, path, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
import pandas, lbpevidence.cli, lbpevidence.outcomes, lbpevidence.references  # imports are not timed
start = time.process_time()
result = {}
if case == "concat":
    from lbpevidence.references import parse_bibtex
    table, problems = parse_bibtex(open(path, encoding="utf-8").read(), path, schema="bibliography")
    result = {"chars": int(table.title.str.len().iloc[0]), "problems": len(problems)}
elif case == "outcomes":
    import lbpevidence as lbp
    table, problems = lbp.read_outcomes(path, strict=False)
    result = {"rows": len(table), "problems": len(problems)}
elif case == "read_csv":
    import pandas as pd
    result = {"rows": len(pd.read_csv(path, dtype=str, keep_default_na=False))}
elif case == "read_references":
    import lbpevidence as lbp
    result = {"rows": len(lbp.read_references(path, strict=False)[0])}
elif case == "add":
    from lbpevidence.cli import main
    runs = []
    for export in extra:
        begin = time.process_time()
        code = main(["add", export, "--refs", path, "--modality", "yoga", "--design", "rct", "--population",
                     "chronic", "--comparator", "usual-care", "--finding", "benefit", "--location", "abstract",
                     "--verified", "2025-01-02", "--source", "https://pubmed.ncbi.nlm.nih.gov/{pmid}/"])
        runs.append([code, time.process_time() - begin])
    result = {"runs": runs}
elif case == "laughs":
    from lbpevidence.references import parse_bibtex
    try:
        table, problems = parse_bibtex(open(path, encoding="utf-8").read(), path, schema="bibliography")
        result = {"outcome": f"{len(problems)} problem(s)", "longest": int(table.title.str.len().max())}
    except MemoryError:
        result = {"outcome": "MemoryError"}
result["seconds"] = time.process_time() - start
result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(result))
"""


def child(src: Path, case: str, path: Path, *extra: str, cache: str | None = None, timeout: int = 1800) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    if cache is None:
        env["LBPEVIDENCE_NO_CACHE"] = "1"
    else:
        env.pop("LBPEVIDENCE_NO_CACHE", None)
        env["LBPEVIDENCE_CACHE_DIR"] = cache
    run = subprocess.run([sys.executable, "-c", CHILD, case, str(path), *extra], capture_output=True, text=True,
                         env=env, timeout=timeout)
    if run.returncode != 0:
        return {"error": (run.stderr.strip().splitlines() or ["?"])[-1], "seconds": float("nan"),
                "peak_mb": float("nan")}
    return json.loads(run.stdout.strip().splitlines()[-1])


def concat_file(folder: Path, parts: int, literal: bool) -> Path:
    pieces = ["a", "{y}", '"z"', "1"] * (parts // 4)
    value = "{" + "xyz1" * (parts // 4) + "}" if literal else " # ".join(pieces)
    path = folder / f"concat_{parts}_{'literal' if literal else 'parts'}.bib"
    path.write_text('@string{a = "x"}\n@article{k, title = ' + value + ", year = 2000}\n", encoding="utf-8")
    return path


def outcomes_folder(folder: Path, rows: int) -> Path:
    target = folder / f"outcomes_{rows}"
    target.mkdir()
    refs = REPO / "refs"
    (target / "studies.bib").write_bytes((refs / "studies.bib").read_bytes())
    header, *lines = (refs / "outcomes.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    with open(target / "outcomes.csv", "w", encoding="utf-8") as out:
        out.write(header)
        for i in range(rows):
            out.write(lines[i % len(lines)])
    return target / "outcomes.csv"


def big_table(folder: Path, size: int) -> Path:
    text = (REPO / "refs" / "studies.bib").read_text(encoding="utf-8")
    entries = [e for e in re.split(r"(?m)^(?=@)", text) if e.startswith("@")]
    parts, total, i = [], 0, 0
    while total < size:
        entry = re.sub(r"^(@\w+\{)([a-z0-9]+)", lambda m, n=i: f"{m.group(1)}{m.group(2)}x{n}",
                       entries[i % len(entries)], count=1)
        parts.append(entry)
        total += len(entry.encode())
        i += 1
    path = folder / "big" / "studies.bib"
    path.parent.mkdir()
    path.write_text("".join(parts), encoding="utf-8")
    return path


def exports(folder: Path, count: int) -> list[str]:
    paths = []
    for i in range(count):
        path = folder / f"new{i}.nbib"
        title = ("Yoga for nurses with chronic back pain", "Massage after a lifting injury",
                 "Heat wraps and acute spasms in drivers", "Tai chi in older farmers")[i % 4]
        path.write_text(f"PMID- 9100000{i}\nTI  - {title}.\nFAU - Zed, Ann\nAU  - Zed A\n"
                        f"TA  - J Bench\nDP  - 2021\nLID - 10.5555/bench.{i} [doi]\n", encoding="utf-8")
        paths.append(str(path))
    return paths


def laughs_file(folder: Path, levels: int) -> Path:
    text = '@string{a0 = "xxxxxxxxxx"}\n'
    for i in range(1, levels + 1):
        text += f"@string{{a{i} = " + " # ".join([f"a{i - 1}"] * 10) + "}\n"
    path = folder / f"laughs_{levels}.bib"
    path.write_text(text + f"@article{{k, title = a{levels}, year = 2000}}\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=REPO / "src", help="the src/ folder to measure")
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    parser.add_argument("--all", action="store_true", help="also the 10 GB 'billion laughs' with --src")
    parser.add_argument("--cases", default="concat,outcomes,add,laughs")
    args = parser.parse_args(argv)
    cases = args.cases.split(",")
    scale = 10 if args.quick else 1
    tmp = Path(tempfile.mkdtemp(prefix="lbp-bench-hostile-"))
    print(f"source: {args.src}")
    if "concat" in cases:
        print("\n# concat: one field of N '#' parts vs the same value as one literal (CPU s, peak MB)")
        print(f"{'parts':>9s} {'parts s':>8s} {'literal s':>9s} {'ratio':>6s} {'us/part':>8s} {'peak MB':>8s}")
        for parts in (250_000 // scale, 500_000 // scale, 1_000_000 // scale):
            got = child(args.src, "concat", concat_file(tmp, parts, literal=False))
            base = child(args.src, "concat", concat_file(tmp, parts, literal=True))
            print(f"{parts:9,d} {got['seconds']:8.2f} {base['seconds']:9.2f} {got['seconds'] / base['seconds']:6.1f} "
                  f"{1e6 * got['seconds'] / parts:8.1f} {got['peak_mb']:8.0f}", flush=True)
    if "outcomes" in cases:
        print("\n# outcomes: read_outcomes of N rows vs pandas.read_csv(dtype=str) of the same file")
        print(f"{'rows':>9s} {'read s':>8s} {'csv s':>7s} {'ratio':>6s} {'us/row':>7s} {'peak MB':>8s} "
              f"{'csv MB':>7s}")
        for rows in (250_000 // scale, 500_000 // scale, 1_000_000 // scale):
            path = outcomes_folder(tmp, rows)
            got = child(args.src, "outcomes", path)
            base = child(args.src, "read_csv", path)
            print(f"{rows:9,d} {got['seconds']:8.2f} {base['seconds']:7.2f} {got['seconds'] / base['seconds']:6.1f} "
                  f"{1e6 * got['seconds'] / rows:7.1f} {got['peak_mb']:8.0f} {base['peak_mb']:7.0f}", flush=True)
    if "add" in cases:
        path = big_table(tmp, int(18.7 * 2**20) // scale)
        size = path.stat().st_size
        base = child(args.src, "read_references", path)
        got = child(args.src, "add", path, *exports(tmp, 3), cache=str(tmp / "cache"))
        print(f"\n# add: three 'lbpevidence add' runs into a {size / 2**20:.1f} MB studies.bib ({base['rows']:,} "
              f"entries), cache on, empty at first")
        print(f"baseline: one parse without cache {base['seconds']:.2f} s, peak {base['peak_mb']:.0f} MB")
        for number, (code, seconds) in enumerate(got.get("runs", []), start=1):
            print(f"add #{number}: exit {code}, {seconds:6.2f} s = {seconds / base['seconds']:.2f} x the parse")
        if "error" in got:
            print(f"add failed: {got['error']}")
    if "laughs" in cases:
        print("\n# laughs: @string macros multiplying by 10 per level")
        for levels in (6, 7, 9):
            if levels == 9 and args.src != REPO / "src" and not args.all:
                print(f"levels {levels}: skipped for --src (10 GB; --all runs it)")
                continue
            got = child(args.src, "laughs", laughs_file(tmp, levels))
            outcome = got.get("outcome") or got.get("error")
            print(f"levels {levels} ({10 ** (levels + 1):,} chars): {outcome}, {got['seconds']:.2f} s, "
                  f"peak {got['peak_mb']:.0f} MB, longest value {got.get('longest', '-')}", flush=True)


if __name__ == "__main__":
    main()
