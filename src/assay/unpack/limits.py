"""Safety limits for extraction, and the writer that enforces them and the work-dir jail."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
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
    # ... judged only past this many bytes out: an xz'd filesystem image of mostly zeros
    # expands 3000x to a harmless few MB, a bomb goes on for gigabytes.
    ratio_after: int = 64 << 20


class Budget:
    """Counts what extraction has written; raises LimitExceeded with a clear message."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.bytes = 0
        self.files = 0

    def check_bytes(self, n: int) -> None:
        """Refuse up front when `n` more bytes would not fit."""
        if self.bytes + n > self.limits.max_total_bytes:
            self.add_bytes(n)

    def add_bytes(self, n: int) -> None:
        self.bytes += n
        if self.bytes > self.limits.max_total_bytes:
            raise LimitExceeded(
                f"extraction wrote more than {self.limits.max_total_bytes} bytes "
                "(decompression bomb?); raise --max-bytes to go on"
            )

    def add_file(self, n: int = 1) -> None:
        self.files += n
        if self.files > self.limits.max_files:
            raise LimitExceeded(
                f"extraction produced more than {self.limits.max_files} files; raise --max-files"
            )


class Deadline:
    def __init__(self, seconds: float, what: str) -> None:
        self.end = time.monotonic() + seconds
        self.seconds = seconds
        self.what = what

    @property
    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise self.error()

    def error(self) -> LimitExceeded:
        return LimitExceeded(f"{self.what} took longer than {self.seconds:.0f} s; raise --timeout")


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


def within(root: str, path: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class SafeWriter:
    """Materialises regular files and directories under root. Never creates symlinks,
    devices or setuid bits on the host: those live in the metadata only.

    Every parent directory is created by this writer, component by component, with
    lstat checks, so no write can pass through a symlink (O_NOFOLLOW covers the leaf).
    """

    def __init__(self, root: Path, budget: Budget) -> None:
        self.root = root
        self.budget = budget
        root.mkdir(parents=True, exist_ok=True)
        self._root_real = os.path.realpath(root)
        self._dirs: set[str] = {""}  # relative dirs known to be real directories of ours

    def _ensure_dir(self, rel: str) -> None:
        if rel in self._dirs:
            return
        parent, _, _ = rel.rpartition("/")
        self._ensure_dir(parent)
        host = os.path.join(self._root_real, rel)
        try:
            os.mkdir(host, 0o755)
        except FileExistsError:
            st = os.lstat(host)
            if not os.path.isdir(host) or os.path.islink(host) or not (st.st_mode & 0o040000):
                raise UnsafeArchive(
                    f"refusing to write through {'/' + rel!r}: not a directory of ours"
                ) from None
        self._dirs.add(rel)

    def _host(self, inner: str) -> tuple[str, str]:
        rel = safe_inner_path(inner).lstrip("/")
        host = os.path.join(self._root_real, rel)
        if not within(self._root_real, os.path.normpath(host)):
            raise UnsafeArchive(f"entry {inner!r} resolves outside the work dir")
        return rel, host

    def mkdir(self, inner: str) -> None:
        rel, _ = self._host(inner)
        self._ensure_dir(rel)

    def write_stream(self, inner: str, chunks: Iterable[bytes], declared_size: int | None = None) -> int:
        rel, host = self._host(inner)
        if not rel:
            raise UnsafeArchive("refusing to write a file over the root directory")
        self._ensure_dir(rel.rpartition("/")[0])
        if declared_size is not None:
            self.budget.check_bytes(declared_size)
        self.budget.add_file()
        written = 0
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
        try:
            fd = os.open(host, flags, 0o644)
        except OSError as exc:
            raise UnsafeArchive(f"cannot write {inner!r}: {exc.strerror}") from None
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                self.budget.add_bytes(len(chunk))
                out.write(chunk)
                written += len(chunk)
        return written

    def write_bytes(self, inner: str, data: bytes) -> int:
        return self.write_stream(inner, [data], len(data))
