"""The per-scan ELF cache the binary checks share: one parse per binary, bounded, word arrays
kept only for the binary in use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assay.analysis.binary import ElfCache, call_sites, elf_cache


def test_one_parse_per_binary_bounded_and_memo_scoped() -> None:
    true, ls = Path("/bin/true").read_bytes(), Path("/bin/ls").read_bytes()
    memo: dict[str, Any] = {}
    cache = elf_cache(memo)
    assert elf_cache(memo) is cache
    assert elf_cache({}) is not cache  # another scan, another cache
    first = cache.load("true", true)
    assert first is not None and cache.load("true", true) is first
    call_sites(first)  # fills its word arrays
    assert first._words
    assert cache.load("ls", ls) is not None
    assert not first._words  # dropped once another binary is in use
    assert cache.load("junk", b"not an ELF") is None and cache.load("junk", b"") is None

    small = ElfCache(max_bytes=2 * len(ls) + 1)
    a = small.load("true", true)
    small.load("ls", ls)  # over the bound: the oldest goes
    assert small.load("true", true) is not a
