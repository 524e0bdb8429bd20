"""The handler interface: a small class per format, as in unblob."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from assay.unpack.base import ExtractedFS
from assay.unpack.limits import Budget, Limits


@dataclass
class HandlerContext:
    limits: Limits
    budget: Budget
    warnings: list[str] = field(default_factory=list)


@dataclass
class Extracted:
    """What a handler produced: a filesystem with metadata, and/or blobs to look into next."""

    filesystem: ExtractedFS | None = None
    blobs: list[tuple[str, Path]] = field(default_factory=list)  # (label, host path)
    note: str | None = None


class Handler:
    name: ClassVar[str]
    # Magic bytes, found at `magic_offset` bytes after the start of the container.
    patterns: ClassVar[tuple[bytes, ...]]
    magic_offset: ClassVar[int] = 0
    # filesystem: yields a tree with metadata; wrapper: yields a payload blob.
    kind: ClassVar[str] = "filesystem"

    def probe(self, data: memoryview, start: int) -> int | None:
        """The container's size if a valid one starts at `start`, else None."""
        raise NotImplementedError

    def extract(
        self, src: Path, start: int, size: int, dest: Path, fs_id: str, ctx: HandlerContext
    ) -> Extracted:
        raise NotImplementedError
