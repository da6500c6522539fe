"""Every real-world .bib under ../shared/bench-bibs gives a table or located problems, never a crash."""

from __future__ import annotations

import re

import pytest

import lbpevidence as lbp
from conftest import SHARED

BENCH = SHARED / "bench-bibs"
FILES = sorted(BENCH.glob("*.bib")) + sorted(BENCH.glob("edge/*.bib")) if BENCH.is_dir() else []
pytestmark = pytest.mark.skipif(not FILES, reason="../shared/bench-bibs is not present")


def expected_counts() -> dict[str, int]:
    """Entry counts of the large files, as SOURCES.md states them."""
    text = (BENCH / "SOURCES.md").read_text(encoding="utf-8")
    return {m.group(1): int(m.group(2).replace(",", ""))
            for m in re.finditer(r"^\| `([\w.]+\.bib)` \| ([\d,]+)", text, re.MULTILINE)}


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_each_file_gives_a_table_or_located_problems(path):
    table, problems = lbp.read_references(path, strict=False, schema="bibliography")
    for row in problems.itertuples():
        assert row.file == str(path)
        assert row.line >= 0 and isinstance(row.message, str) and row.message.startswith(str(path))
    assert len(table) > 0 or len(problems) > 0


def test_large_file_entry_counts_match_sources_md():
    counts = expected_counts()
    assert set(counts) == {"cdl.bib", "tugboat.bib", "manabibliography.bib"}
    for name, count in counts.items():
        table, _ = lbp.read_references(BENCH / name, strict=False, schema="bibliography")
        assert len(table) == count, name
