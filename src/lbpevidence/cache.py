"""A small on-disk cache for parsed tables, keyed by content, stored outside refs/.

A key is a hash of the file's bytes plus everything else the result depends on (the
schema, the resolved path that problems name, and the versions of lbpevidence,
bibtexparser and pandas), so any change to the file or the library misses the cache.
Entries are pickles written atomically; a corrupt or unreadable entry is treated as a
miss, never an error. Set ``LBPEVIDENCE_CACHE_DIR`` to move the cache, or
``LBPEVIDENCE_NO_CACHE=1`` to turn it off.

Examples
--------
>>> key = cache_key(b"@article{a, title={x}}", "studies", "/tmp/a.bib")
>>> len(key)
64
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import pickle
import tempfile
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["cache_dir", "cache_key", "cached_problems", "enabled", "gc_paused", "load", "store"]


def enabled() -> bool:
    """False when ``LBPEVIDENCE_NO_CACHE`` is set to a non-empty value other than 0."""
    return os.environ.get("LBPEVIDENCE_NO_CACHE", "") in ("", "0")


def cache_dir() -> Path:
    """``$LBPEVIDENCE_CACHE_DIR``, else ``$XDG_CACHE_HOME/lbpevidence``, else ``~/.cache/lbpevidence``."""
    explicit = os.environ.get("LBPEVIDENCE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lbpevidence"


@lru_cache(maxsize=1)
def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    from . import __version__

    parts = [f"lbpevidence={__version__}"]
    for package in ("bibtexparser", "pandas"):
        try:
            parts.append(f"{package}={version(package)}")
        except PackageNotFoundError:  # pragma: no cover - both are dependencies
            parts.append(f"{package}=?")
    # The library's own source is part of the key, so an edited checkout never reads stale results.
    source = hashlib.sha256()
    for module in sorted(Path(__file__).parent.glob("*.py")):
        source.update(module.read_bytes())
    parts.append(source.hexdigest()[:16])
    return ";".join(parts)


def cache_key(data: bytes, *context: str) -> str:
    """SHA-256 over the content, the context strings and the library versions."""
    digest = hashlib.sha256(data)
    for part in (*context, _versions()):
        # surrogateescape: a path whose bytes are not UTF-8 (a refs folder named b"refs\xff") reaches us with
        # lone surrogates in it, which plain .encode() refuses
        digest.update(b"\0" + part.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a block that builds many acyclic objects.

    Parsing a file or unpickling a table creates hundreds of thousands of strings, lists and
    dicts with no reference cycles; the collector would traverse them again and again and
    free nothing (a quarter of an unpickle's time). Reference counting still frees all of
    it. The collector's previous state is restored, so a caller who disabled it keeps it off.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load(key: str) -> Any | None:
    """The cached value for ``key``, or None on a miss (missing, unreadable or corrupt)."""
    if not enabled():
        return None
    path = cache_dir() / f"{key}.pickle"
    try:
        data = path.read_bytes()
        with gc_paused():
            return pickle.loads(data)
    except Exception:  # a broken cache entry must never break a load: treat it as a miss
        return None


def store(key: str, value: Any) -> None:
    """Write ``value`` for ``key`` atomically; failures (read-only home, full disk) are ignored."""
    if not enabled():
        return
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".tmp") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            temp = handle.name
        os.replace(temp, folder / f"{key}.pickle")
    except OSError:
        pass


def cached_problems(label: str, files: list[Path], compute) -> list:
    """The problems ``compute()`` finds in ``files``, cached under their contents.

    Used by ``lbpevidence validate``: on a hit it needs neither pandas nor the parser.
    A missing file is part of the key (its absence), like its bytes would be.
    """
    digest = hashlib.sha256()
    for path in files:
        digest.update(os.fsencode(path) + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"\0missing\0")
    key = cache_key(digest.digest(), "problems", label)
    hit = load(key)
    if isinstance(hit, list):
        return hit
    problems = compute()
    store(key, problems)
    return problems
