"""Benchmark: our LaTeX decoder (lbpevidence.latex) against pylatexenc, for agreement and speed.

Run::

    pip install pylatexenc        # not a dependency of lbpevidence: only this comparison needs it
    python benchmarks/bench_latex.py
    python benchmarks/bench_latex.py --repeat 7 --show 20

Question (issue 19): should ``latex.py`` be replaced by ``pylatexenc``? Only if pylatexenc gives
the same text on the bundled refs/ and on the benchmark bibliographies (../shared/bench-bibs,
read in place: cdl.bib, tugboat.bib, manabibliography.bib and the edge/ files) at equal or
better speed.

What it does: every field value of those files that holds LaTeX markup (``latex.needs_decoding``:
a backslash, brace, tie, dollar, ``--``, TeX quotes or a line break) is collected once (raw, as
bibtexparser's bare parse leaves it). Each is decoded by

* ``ours``: ``lbpevidence.latex.decode_latex``, one value at a time, cache cleared;
* ``ours-batch``: ``lbpevidence.latex.decode_many`` on all values at once (what read_references runs);
* ``pylatexenc``: ``LatexNodes2Text().latex_to_text`` (pylatexenc's defaults, as bibtexparser's
  ``LatexDecodingMiddleware`` uses it), one value at a time, whitespace collapsed as ours does.

It reports how many values the two give the same text for (whitespace, no-break spaces included,
collapsed on both sides), per file and in all, the kinds of disagreement with examples, and the best CPU time of
``--repeat`` runs of each decoder with the ratio against ours measured in the same run.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import time
from pathlib import Path

import bibtexparser

from lbpevidence import latex

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "bench-bibs"
_SPACE = re.compile(r"\s+")


def files() -> list[Path]:
    """The bundled refs/ .bib files and the benchmark bibliographies that are present."""
    found = [ROOT / "refs" / "studies.bib", ROOT / "refs" / "article.bib"]
    if SHARED.is_dir():
        found += [SHARED / name for name in ("cdl.bib", "tugboat.bib", "manabibliography.bib")]
        found += sorted((SHARED / "edge").glob("*.bib"))
    return [path for path in found if path.is_file()]


def marked_values(paths: list[Path]) -> dict[str, list[str]]:
    """{file name: distinct field values holding LaTeX markup}, read with bibtexparser's bare parse."""
    out = {}
    for path in paths:
        library = bibtexparser.parse_string(path.read_text(encoding="utf-8", errors="replace"))
        values = {str(field.value) for entry in library.entries for field in entry.fields}
        values |= {str(block.value) for block in library.strings}
        out[path.name] = sorted(v for v in values if latex.needs_decoding(v))
    return out


def theirs_decoder():
    from pylatexenc.latex2text import LatexNodes2Text

    converter = LatexNodes2Text()

    def decode(value: str) -> str:
        return _SPACE.sub(" ", converter.latex_to_text(value)).strip()

    return decode


def kind(ours: str, theirs: str) -> str:
    """A short name for how two decodings differ."""
    if len(theirs) < len(ours) and all(word in ours for word in theirs.split()):
        return "text dropped by pylatexenc (an unknown macro, \\TeX, \\url, ...)"
    if len(theirs) > len(ours):
        return "pylatexenc keeps more text (markup ours removes)"
    return "other"


def around_difference(ours: str, theirs: str, width: int = 60) -> tuple[str, str]:
    """The two texts from a little before their first difference."""
    first = next((i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), min(len(ours), len(theirs)))
    start = max(0, first - 20)
    return ours[start:start + width], theirs[start:start + width]


def best_time(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        latex.decode_latex.cache_clear()
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each decoder (best is reported)")
    parser.add_argument("--show", type=int, default=3, help="examples shown per kind of disagreement")
    args = parser.parse_args(argv)
    try:
        theirs = theirs_decoder()
    except ImportError:
        print("pylatexenc is not installed: pip install pylatexenc", file=sys.stderr)
        return 2
    by_file = marked_values(files())
    values = sorted({v for vs in by_file.values() for v in vs})
    print(f"{len(values):,} distinct values with markup from {len(by_file)} files "
          f"({', '.join(f'{name} {len(vs):,}' for name, vs in by_file.items() if len(vs) > 50)}, ...)")

    kinds: dict[str, list[tuple[str, str, str]]] = collections.defaultdict(list)
    agrees = {value: latex.decode_latex(value) == theirs(value) for value in values}
    for name, file_values in by_file.items():
        if name in ("studies.bib", "article.bib") or len(file_values) > 1000:
            same, total = sum(agrees[v] for v in file_values), len(file_values)
            print(f"  {name:22s} same text for {same:6,} of {total:6,} ({100 * same / total:5.1f}%)")
    same = sum(agrees.values())
    print(f"  {'all':22s} same text for {same:6,} of {len(values):6,} ({100 * same / len(values):5.1f}%)")
    for value in values:
        if not agrees[value]:
            ours_text, theirs_text = latex.decode_latex(value), theirs(value)
            kinds[kind(ours_text, theirs_text)].append((value, ours_text, theirs_text))
    print("Where they differ:")
    for name, rows in sorted(kinds.items(), key=lambda item: -len(item[1])):
        print(f"  {len(rows):6,}  {name}")
        for value, ours_text, theirs_text in rows[: args.show]:
            ours_part, theirs_part = around_difference(ours_text, theirs_text)
            print(f"          {value[:70]!r}\n            ours {ours_part!r}\n            pyle {theirs_part!r}")

    ours_time = best_time(lambda: [latex.decode_latex(v) for v in values], args.repeat)
    batch_time = best_time(lambda: latex.decode_many(values), args.repeat)
    theirs_time = best_time(lambda: [theirs(v) for v in values], max(1, args.repeat // 2))
    print(f"\nCPU time, best of {args.repeat} (pylatexenc: best of {max(1, args.repeat // 2)}), same run:")
    for label, seconds in (("ours (decode_latex)", ours_time), ("ours-batch (decode_many)", batch_time),
                           ("pylatexenc", theirs_time)):
        print(f"  {label:26s} {seconds:8.3f} s  {len(values) / seconds:12,.0f} values/s  "
              f"{seconds / ours_time:6.1f}x ours")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
