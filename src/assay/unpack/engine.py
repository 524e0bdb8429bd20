"""Recursive unpacking: find containers in a blob, extract them, look inside what they hold."""

from __future__ import annotations

import mmap
import os
import stat
from collections.abc import Callable
from pathlib import Path

from assay.errors import InputError, UnsupportedImage
from assay.unpack.base import (
    KIND_FILE,
    KIND_SYMLINK,
    ExtractedFS,
    Layer,
    MetaEntry,
    UnpackResult,
    kind_from_mode,
)
from assay.unpack.handlers import Handler, HandlerContext, all_handlers
from assay.unpack.limits import Budget, Limits

Progress = Callable[[str], None]


def unpack(
    image: Path,
    workdir: Path,
    limits: Limits | None = None,
    progress: Progress | None = None,
) -> UnpackResult:
    """Unpack an image file, or index a directory as an already-unpacked root filesystem."""
    limits = limits or Limits()
    if not image.exists() and not image.is_symlink():
        raise InputError(f"{image}: no such file or directory")
    if image.is_dir():
        fs = index_directory(image, "fs0")
        return UnpackResult(
            filesystems=[fs], layers=[Layer("directory", 0, None, 0, None)], image_format="directory"
        )
    if not image.is_file():
        raise InputError(f"{image}: not a regular file or directory")
    if not os.access(image, os.R_OK):
        raise InputError(f"{image}: permission denied")
    if image.stat().st_size == 0:
        raise InputError(f"{image}: file is empty")

    ctx = HandlerContext(limits=limits, budget=Budget(limits))
    workdir.mkdir(parents=True, exist_ok=True)
    result = UnpackResult(filesystems=[], layers=[])
    queue: list[tuple[str, Path, int]] = [("", image, 0)]
    handlers = all_handlers()
    while queue:
        label, blob, depth = queue.pop(0)
        if depth > limits.max_depth:
            result.warnings.append(
                f"{label or blob.name}: not unpacked, nesting deeper than {limits.max_depth}"
            )
            continue
        for handler, start, size in carve(blob, handlers):
            fs_id = f"fs{len(result.filesystems)}"
            dest = workdir / (fs_id if handler.kind == "filesystem" else f"blob{len(result.layers)}")
            if progress:
                progress(f"{handler.name} at 0x{start:x}")
            out = handler.extract(blob, start, size, dest, fs_id, ctx)
            result.layers.append(Layer(handler.name, start, size, depth, label or None, out.note))
            if out.filesystem is not None:
                out.filesystem.source = f"{label or image.name}@0x{start:x}"
                result.filesystems.append(out.filesystem)
            for sub_label, sub_path in out.blobs:
                queue.append((f"{label or image.name}/{sub_label}", sub_path, depth + 1))
    result.warnings.extend(ctx.warnings)
    if not result.filesystems:
        raise UnsupportedImage(f"{image}: no filesystem or archive found that Assay can unpack")
    first = result.layers[0] if result.layers else None
    result.image_format = first.handler if first else "unknown"
    return result


def carve(blob: Path, handlers: list[Handler]) -> list[tuple[Handler, int, int]]:
    """Non-overlapping (handler, start, size) chunks, earliest first."""
    found: list[tuple[Handler, int, int]] = []
    with open(blob, "rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            return []
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            data = memoryview(mm)
            try:
                candidates: list[tuple[int, Handler]] = []
                for h in handlers:
                    for pat in h.patterns:
                        pos = mm.find(pat)
                        while pos >= 0:
                            start = pos - h.magic_offset
                            if start >= 0:
                                candidates.append((start, h))
                            pos = mm.find(pat, pos + 1)
                candidates.sort(key=lambda c: c[0])
                covered_to = 0
                for start, h in candidates:
                    if start < covered_to:
                        continue
                    size = h.probe(data, start)
                    if size:
                        found.append((h, start, size))
                        covered_to = start + size
            finally:
                data.release()
    return found


def index_directory(root: Path, fs_id: str) -> ExtractedFS:
    """An unpacked tree as given: lstat only, so no link is followed out of it."""
    fs = ExtractedFS(id=fs_id, fstype="directory", host_root=root)
    fs.entries["/"] = _meta_from_stat("/", os.lstat(root), None)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel = os.path.relpath(dirpath, root)
        base = "/" if rel == "." else "/" + rel.replace(os.sep, "/")
        for name in dirnames + filenames:
            host = os.path.join(dirpath, name)
            st = os.lstat(host)
            inner = base.rstrip("/") + "/" + name
            target = os.readlink(host) if stat.S_ISLNK(st.st_mode) else None
            fs.entries[inner] = _meta_from_stat(inner, st, target)
    return fs


def _meta_from_stat(inner: str, st: os.stat_result, target: str | None) -> MetaEntry:
    kind = kind_from_mode(st.st_mode)
    return MetaEntry(
        path=inner,
        kind=kind,
        mode=st.st_mode & 0o7777,
        uid=st.st_uid,
        gid=st.st_gid,
        size=st.st_size if kind == KIND_FILE else 0,
        link_target=target if kind == KIND_SYMLINK else None,
        mtime=int(st.st_mtime),
    )
