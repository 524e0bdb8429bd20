"""Safety limits for extraction, and the writer that enforces them and the work-dir jail."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from assay.errors import LimitExceeded, UnsafeArchive


@dataclass(frozen=True)
class Limits:
    max_total_bytes: int = 4 * 1024**3  # across the whole scan
    max_files: int = 200_000
    max_depth: int = 6  # nesting of containers
    max_seconds_per_extractor: float = 300.0
    max_ratio: int = 1000  # bytes out per byte in, for one decompression stream


class Budget:
    """Counts what extraction has written; raises LimitExceeded with a clear message."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.bytes = 0
        self.files = 0

    def add_bytes(self, n: int) -> None:
        self.bytes += n
        if self.bytes > self.limits.max_total_bytes:
            raise LimitExceeded(
                f"extraction wrote more than {self.limits.max_total_bytes} bytes "
                "(decompression bomb?); raise --max-bytes to go on"
            )

    def add_file(self) -> None:
        self.files += 1
        if self.files > self.limits.max_files:
            raise LimitExceeded(
                f"extraction produced more than {self.limits.max_files} files; raise --max-files"
            )


class Deadline:
    def __init__(self, seconds: float, what: str) -> None:
        self.end = time.monotonic() + seconds
        self.seconds = seconds
        self.what = what

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise LimitExceeded(f"{self.what} took longer than {self.seconds:.0f} s")


def safe_inner_path(path: str) -> str:
    """Normalise a path from an archive into '/a/b'; '..' cannot climb above the root."""
    parts: list[str] = []
    for part in path.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts)


def host_path_for(root: Path, inner: str) -> Path:
    """The host path for an inner path; refuses anything that would land outside root."""
    rel = safe_inner_path(inner).lstrip("/")
    if not rel:
        return root
    target = root / rel
    root_real = os.path.realpath(root)
    parent_real = os.path.realpath(target.parent)
    if not (parent_real == root_real or parent_real.startswith(root_real + os.sep)):
        raise UnsafeArchive(f"entry {inner!r} resolves outside the work dir")
    return target


def check_raw_name(name: str) -> str | None:
    """A warning for names that try to escape (absolute or '..'); None if the name is plain."""
    n = name.replace("\\", "/")
    if n.startswith("/") or ".." in n.split("/"):
        return f"entry name {name!r} tried to leave its root; confined to the work dir"
    return None


class SafeWriter:
    """Materialises regular files and directories under root. Never creates symlinks,
    devices or setuid bits on the host: those live in the metadata only."""

    def __init__(self, root: Path, budget: Budget) -> None:
        self.root = root
        self.budget = budget
        root.mkdir(parents=True, exist_ok=True)

    def mkdir(self, inner: str) -> None:
        p = host_path_for(self.root, inner)
        if p.is_symlink():
            raise UnsafeArchive(f"refusing to write through a symlink at {inner!r}")
        p.mkdir(parents=True, exist_ok=True)

    def write_stream(self, inner: str, chunks, declared_size: int | None = None) -> int:
        p = host_path_for(self.root, inner)
        p.parent.mkdir(parents=True, exist_ok=True)
        if (
            declared_size is not None
            and self.budget.bytes + declared_size > self.budget.limits.max_total_bytes
        ):
            self.budget.add_bytes(declared_size)  # raises with the message
        self.budget.add_file()
        written = 0
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
        fd = os.open(p, flags, 0o644)
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
                written += len(chunk)
                self.budget.add_bytes(len(chunk))
        return written

    def write_bytes(self, inner: str, data: bytes) -> int:
        return self.write_stream(inner, [data], len(data))
