"""Rewrite the per-modality coverage table in refs/README.md from the data.

Run after changing refs/ (tests/test_refs_data.py fails while the table is stale):

    python scripts/update_refs_readme.py
"""

from __future__ import annotations

from pathlib import Path

import lbpevidence as lbp
from lbpevidence.cli import format_table
from lbpevidence.review import coverage

README = Path(__file__).resolve().parent.parent / "refs" / "README.md"
START, END = "<!-- coverage:start -->\n", "<!-- coverage:end -->"


def main() -> None:
    refs = lbp.read_references()
    table = format_table(coverage(refs, lbp.read_outcomes(references=refs)), "markdown")
    text = README.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(head + START + table + END + tail, encoding="utf-8")
    print(f"updated {README}")


if __name__ == "__main__":
    main()
