"""The parse cache: keyed by content, stored outside refs/, never trusted blindly."""

from __future__ import annotations

import gc
import os

import pytest

import lbpevidence as lbp
from conftest import bib_entry
from lbpevidence import cache, references


def test_second_read_comes_from_the_cache(write, monkeypatch):
    path = write(bib_entry("a"))
    first = lbp.read_references(path)
    monkeypatch.setattr(references, "_parse_boxed", lambda *a, **k: pytest.fail("parsed again"))
    second = lbp.read_references(path)
    assert second.equals(first) and second is not first
    assert gc.isenabled(), "the loader pauses the collector while unpickling, and must turn it back on"


def test_a_one_byte_change_is_picked_up(write):
    path = write(bib_entry("a", year="2020"))
    assert lbp.read_references(path).year.tolist() == [2020]
    path.write_bytes(path.read_bytes().replace(b"2020", b"2021"))
    assert lbp.read_references(path).year.tolist() == [2021]


def test_a_table_cached_under_other_columns_or_mirror_rules_is_not_served(write, monkeypatch):
    """A cache written before seen_at or a mirror host existed would lack the column or the problem."""
    path = write(bib_entry("a", url="https://www.scribd.com/document/1"))
    assert lbp.read_references(path, strict=False)[1].field.tolist() == ["url"]
    calls = []
    parse = references._parse_boxed
    monkeypatch.setattr(references, "_parse_boxed", lambda *a, **k: calls.append(1) or parse(*a, **k))
    monkeypatch.setattr(references, "_CACHE_RULES", references._CACHE_RULES + ",example.org")
    lbp.read_references(path, strict=False)
    assert calls == [1]


def test_cached_problems_are_raised_again(write):
    path = write(bib_entry("a", modality="acupunture"))
    for _ in range(2):
        with pytest.raises(lbp.ReferenceTableError, match="acupunture"):
            lbp.read_references(path)


def test_cache_lives_outside_refs(write):
    path = write(bib_entry("a"))
    lbp.read_references(path)
    folder = cache.cache_dir()
    assert list(folder.glob("*.pickle"))
    assert path.parent not in folder.parents and folder != path.parent


def test_corrupt_entry_is_a_miss(write):
    path = write(bib_entry("corrupt"))
    lbp.read_references(path)
    for entry in cache.cache_dir().glob("*.pickle"):
        entry.write_bytes(b"not a pickle")
    assert lbp.read_references(path).key.tolist() == ["corrupt"]


def test_cache_can_be_turned_off(write, monkeypatch):
    monkeypatch.setenv("LBPEVIDENCE_NO_CACHE", "1")
    path = write(bib_entry("off"))
    before = set(cache.cache_dir().glob("*.pickle"))
    lbp.read_references(path)
    assert set(cache.cache_dir().glob("*.pickle")) == before


def test_key_depends_on_content_schema_and_path():
    base = cache.cache_key(b"x", "references", "studies", "/a.bib")
    assert base != cache.cache_key(b"y", "references", "studies", "/a.bib")
    assert base != cache.cache_key(b"x", "references", "printed", "/a.bib")
    assert base != cache.cache_key(b"x", "references", "studies", "/b.bib")


def test_unwritable_cache_dir_does_not_break_a_load(write, monkeypatch, tmp_path):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    monkeypatch.setenv("LBPEVIDENCE_CACHE_DIR", str(blocker / "sub"))
    assert lbp.read_references(write(bib_entry("ok"))).key.tolist() == ["ok"]
    assert os.path.isfile(blocker)


def test_validate_served_from_the_problem_cache_imports_no_pandas(write, tmp_path):
    import subprocess
    import sys

    path = write(bib_entry("a", modality="acupunture"))
    code = ("import sys, io, contextlib; from lbpevidence.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out: rc = main(['validate', sys.argv[1]])\n"
            "print(rc, 'pandas' in sys.modules, out.getvalue().count('acupunture'))")
    first = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    second = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    assert first.stdout.split() == ["1", "True", "1"]    # parsed: pandas needed
    assert second.stdout.split() == ["1", "False", "1"]  # same problems, from the cache, without pandas
    path.write_text(bib_entry("a"))                        # fixed: the cache must not replay old problems
    third = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    assert third.stdout.split() == ["0", "True", "0"]
