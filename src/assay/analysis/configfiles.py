"""Small helpers for reading configuration files out of the index."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from assay.index import FileEntry, FileIndex


@dataclass(frozen=True)
class ConfigLine:
    entry: FileEntry
    data: bytes
    offset: int  # of the line's first byte in the file
    text: str  # the line, without comment and surrounding blanks
    number: int


def config_lines(index: FileIndex, entry: FileEntry, comment: str = "#") -> Iterator[ConfigLine]:
    """Non-empty, non-comment lines with their byte offsets, for evidence."""
    data = index.read(entry, 1 << 20)
    offset = 0
    for number, raw in enumerate(data.split(b"\n"), 1):
        line = raw.decode("utf-8", errors="replace")
        stripped = _strip_comment(line, comment).strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            yield ConfigLine(entry, data, offset + lead, stripped, number)
        offset += len(raw) + 1


def _strip_comment(line: str, comment: str) -> str:
    if not comment:
        return line
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif line.startswith(comment, i):
            return line[:i]
    return line


def text_files(index: FileIndex, *globs: str) -> Iterator[FileEntry]:
    """Regular text files matching any of the globs, each once, in index order."""
    seen: set[tuple[str, str]] = set()
    for pattern in globs:
        for e in index.glob(pattern):
            if e.is_file and e.filetype in ("text", "script", "empty") and (e.fs, e.path) not in seen:
                seen.add((e.fs, e.path))
                yield e


def uci_sections(
    index: FileIndex, entry: FileEntry
) -> Iterator[tuple[str, str | None, dict[str, tuple[str, ConfigLine]]]]:
    """OpenWrt UCI: (type, name, {option: (value, line)}) for each `config` section."""
    current: tuple[str, str | None, dict[str, tuple[str, ConfigLine]]] | None = None
    for line in config_lines(index, entry):
        words = _uci_split(line.text)
        if not words:
            continue
        if words[0] == "config":
            if current:
                yield current
            current = (words[1] if len(words) > 1 else "", words[2] if len(words) > 2 else None, {})
        elif words[0] in ("option", "list") and current is not None and len(words) >= 2:
            current[2][words[1]] = (words[2] if len(words) > 2 else "", line)
    if current:
        yield current


_UCI_TOKEN = re.compile(r"""'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)""")


def _uci_split(text: str) -> list[str]:
    return [
        m.group(1) if m.group(1) is not None else m.group(2) if m.group(2) is not None else m.group(3)
        for m in _UCI_TOKEN.finditer(text)
    ]
