"""Printable-string extraction shared by checks that read binaries."""

from __future__ import annotations

import re
from collections.abc import Iterator

_ASCII = {n: re.compile(rb"[\x20-\x7e\t]{%d,}" % n) for n in (3, 4, 5, 6, 8)}


def ascii_strings(data: bytes, min_len: int = 4) -> Iterator[tuple[int, bytes]]:
    """(offset, string) for every run of printable ASCII of at least min_len bytes."""
    pattern = _ASCII.get(min_len) or re.compile(rb"[\x20-\x7e\t]{%d,}" % min_len)
    for m in pattern.finditer(data):
        yield m.start(), m.group()
