"""Load the two sides of a comparison: unpack (or scan) each image and keep its file view."""

from __future__ import annotations

import multiprocessing
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from assay.errors import InputError
from assay.index import FileEntry, FileIndex, build_index
from assay.pipeline import Report, ScanOptions, image_info, scan
from assay.unpack import Limits, unpack


@dataclass
class Side:
    """One input: its image facts, its file view and, when scanned, its report."""

    label: str
    source: Path
    image: dict[str, Any]
    index: FileIndex
    report: Report | None = None
    # (fs, path) -> mtime as the filesystem records it; equivalence names it, the diff ignores it
    mtimes: dict[tuple[str, str], int] = field(default_factory=dict)

    def mtime(self, entry: FileEntry) -> int | None:
        return self.mtimes.get((entry.fs, entry.path))

    @property
    def is_directory(self) -> bool:
        return self.source.is_dir()

    def keyed(self) -> dict[str, FileEntry]:
        """Entries by comparison key: the path for the primary filesystem, 'fsN:/path' for others."""
        primary = self.index.fs_order[0] if self.index.fs_order else None
        return {entry_key(e, primary): e for e in self.index}


def entry_key(entry: FileEntry, primary: str | None) -> str:
    return entry.path if entry.fs == primary else f"{entry.fs}:{entry.path}"


def _scan_side(source: Path, workdir: Path, options: ScanOptions) -> Side:
    report = scan(source, replace(options, workdir=workdir))
    # The report lists files in index order, root filesystem first; keep that order.
    index = FileIndex(report.files, list(dict.fromkeys(e.fs for e in report.files)))
    return Side(source.name, source, dict(report.image), index, report)


def _unpack_side(source: Path, workdir: Path, limits: Limits) -> Side:
    unpacked = unpack(source, workdir / "extract", limits)
    index = build_index(unpacked.filesystems)
    mtimes = {
        (fs.id, m.path): m.mtime
        for fs in unpacked.filesystems
        for m in fs.entries.values()
        if m.mtime is not None
    }
    return Side(source.name, source, image_info(source, unpacked), index, None, mtimes)


def load_sides(
    old: Path,
    new: Path,
    workdir: Path,
    *,
    full_scan: bool,
    options: ScanOptions | None = None,
    jobs: int | None = None,
) -> tuple[Side, Side]:
    """Both sides, in two processes when there are two cores: the sides are independent."""
    options = options or ScanOptions()
    for p in (old, new):
        _check_input(p)
    dirs = (workdir / "old", workdir / "new")
    jobs = jobs if jobs is not None else min(2, os.cpu_count() or 1)
    if full_scan:
        args: list[tuple[Any, ...]] = [(old, dirs[0], options), (new, dirs[1], options)]
        fn: Any = _scan_side
    else:
        args = [(old, dirs[0], options.limits), (new, dirs[1], options.limits)]
        fn = _unpack_side
    if jobs < 2:
        a, b = (fn(*x) for x in args)
        return a, b
    # An explicit context: asking for the default one would fix it, and unblob sets its own at import.
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork")) as pool:
        fa = pool.submit(fn, *args[0])
        fb = pool.submit(fn, *args[1])
        return fa.result(), fb.result()


# Where two throw-away trees go when nothing else is asked: a RAM-backed tmpfs, when it has room.
_TMPFS = Path("/dev/shm")
_MEM_MARGIN = 1 << 30


def scratch_dir(limits: Limits) -> str | None:
    """A directory for the two extracted trees. Creating and deleting thousands of files is most
    of a scan's time on a busy disk, and a diff does it twice; tmpfs is used only when both sides
    fit there even at their extraction limit, so a large image can never fill it. None: the default."""
    need = 2 * limits.max_total_bytes
    try:
        if not (_TMPFS.is_dir() and os.access(_TMPFS, os.W_OK | os.X_OK)):
            return None
        if shutil.disk_usage(_TMPFS).free < need:
            return None
        with open("/proc/meminfo", encoding="ascii") as fh:
            avail = next((int(x.split()[1]) * 1024 for x in fh if x.startswith("MemAvailable:")), 0)
    except (OSError, ValueError):
        return None
    return str(_TMPFS) if avail >= need + _MEM_MARGIN else None


def _check_input(path: Path) -> None:
    """Fail before the other side's scan starts, not after it."""
    if not path.exists():
        raise InputError(f"{path}: no such file or directory")
    if not (path.is_file() or path.is_dir()):
        raise InputError(f"{path}: not a regular file or directory")
    if path.is_file() and path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
