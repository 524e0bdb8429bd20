"""Recursive unpacking: find containers in a blob, extract them, look inside what they hold.

Blobs come in three sorts. The image itself and the payloads that wrappers (gzip,
uImage, TRX, ...) produce are carved in full: every handler's magic is searched and
each valid container is extracted, earliest first, without overlaps. Files inside an
extracted filesystem are opened only when `policy.worth_opening` says they can hold
code or configuration. When nothing yields a filesystem, unblob is tried on the image
(see `fallback`). Damaged containers become warnings as long as something unpacked.
"""

from __future__ import annotations

import math
import mmap
import os
import posixpath
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assay.errors import InputError, LimitExceeded, UnsafeArchive, UnsupportedImage
from assay.unpack.base import (
    KIND_DIR,
    KIND_FILE,
    KIND_SYMLINK,
    ExtractedFS,
    Layer,
    MetaEntry,
    UnpackResult,
    kind_from_mode,
)
from assay.unpack.fallback import run_unblob, unblob_available
from assay.unpack.handlers import Handler, HandlerContext, all_handlers
from assay.unpack.limits import Budget, Limits
from assay.unpack.policy import worth_opening

Progress = Callable[[str], None]

_FALLBACK_LEAVES = 4


class EmptyFilesystem(Exception):
    pass


# Blob sorts: carved in full, or a member file of a filesystem (policy decides before).
_CARVE = "carve"
_MEMBER = "member"


@dataclass
class _Blob:
    label: str
    path: Path
    depth: int
    parent: str | None


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
        if not os.access(image, os.R_OK | os.X_OK):
            raise InputError(f"{image}: permission denied")
        fs = index_directory(image, "fs0")
        if not any(e.kind == KIND_FILE for e in fs.entries.values()):
            raise InputError(f"{image}: directory holds no files")
        return UnpackResult(
            filesystems=[fs], layers=[Layer("directory", 0, None, 0, None)], image_format="directory"
        )
    if not image.is_file():
        raise InputError(f"{image}: not a regular file or directory")
    if not os.access(image, os.R_OK):
        raise InputError(f"{image}: permission denied")
    if image.stat().st_size == 0:
        raise InputError(f"{image}: file is empty")
    workdir.mkdir(parents=True, exist_ok=True)
    return _Unpacker(image, workdir, limits, progress).run()


class _Unpacker:
    def __init__(self, image: Path, workdir: Path, limits: Limits, progress: Progress | None) -> None:
        self.image = image
        self.workdir = workdir
        self.limits = limits
        self.progress = progress or (lambda _msg: None)
        self.ctx = HandlerContext(limits=limits, budget=Budget(limits))
        self.handlers = all_handlers()
        self.result = UnpackResult(filesystems=[], layers=[])
        self.leaves: list[_Blob] = []
        self.diagnoses: list[str] = []
        self._n = 0

    def _dest(self, prefix: str) -> Path:
        self._n += 1
        return self.workdir / f"{prefix}{self._n}"

    def run(self) -> UnpackResult:
        queue: list[_Blob] = [_Blob(self.image.name, self.image, 0, None)]
        while queue:
            blob = queue.pop(0)
            queue.extend(self._carve_blob(blob))
        # A container cut short at offset 0 cannot be read by any tool: skip unblob then.
        truncated = any("truncated" in d for d in self.diagnoses)
        # Wrappers that span the whole image (a bare .xz, a kernel uImage) explain it fully.
        top = sum(layer.size or 0 for layer in self.result.layers if layer.depth == 0)
        explained = bool(self.leaves) and top >= 0.9 * self.image.stat().st_size
        if not self.result.filesystems and not truncated and unblob_available():
            # A wrapper's payload that none of ours opens (an xz'd FAT or XFS image, ...) gets
            # unblob's handlers; otherwise the image itself does.
            targets = (
                self.leaves[:_FALLBACK_LEAVES] if explained else [_Blob(self.image.name, self.image, 0, None)]
            )
            for target in targets:
                queue = self._fallback(target)
                while queue:
                    queue.extend(self._carve_blob(queue.pop(0)))
        if not self.result.filesystems and self.leaves:
            self._leaves_as_fs()
        self.result.warnings.extend(self.ctx.warnings)
        if not self.result.filesystems:
            why = "; ".join(self.diagnoses[:1] + self.ctx.warnings[:1]) or _describe_unknown(self.image)
            raise UnsupportedImage(
                f"{self.image}: no filesystem or archive found that Assay can unpack"
                + (f" ({why})" if why else "")
            )
        first = self.result.layers[0] if self.result.layers else None
        self.result.image_format = first.handler if first else "unknown"
        return self.result

    def _carve_blob(self, blob: _Blob) -> list[_Blob]:
        if blob.depth > self.limits.max_depth:
            self.ctx.warnings.append(
                f"{blob.label}: not unpacked, nesting deeper than {self.limits.max_depth} (--max-depth)"
            )
            return []
        found = 0
        nxt: list[_Blob] = []
        for handler, start, size in self._candidates(blob):
            self.progress(f"{handler.name} at 0x{start:x} in {blob.label}")
            fs_id = f"fs{len(self.result.filesystems)}"
            dest = self._dest("fs" if handler.kind == "filesystem" else "blob")
            try:
                out = handler.extract(blob.path, start, size, dest, fs_id, self.ctx)
                if out.filesystem is not None and len(out.filesystem.entries) <= 1 and not out.blobs:
                    # A bare root: a stray magic inside other data, or a filesystem with nothing to judge.
                    raise EmptyFilesystem("it holds no entries")
            except (LimitExceeded, UnsafeArchive):
                raise
            except Exception as exc:  # a damaged container is a warning, the scan goes on
                self.ctx.warnings.append(
                    f"{blob.label}: {handler.name} at 0x{start:x} not unpacked: {_reason(exc)}"
                )
                shutil.rmtree(dest, ignore_errors=True)
                yield_size = None
            else:
                yield_size = out.size or size
                found += 1
                self.result.layers.append(
                    Layer(handler.name, start, yield_size, blob.depth, blob.parent, out.note)
                )
                if out.filesystem is not None:
                    fs = _reroot(out.filesystem)
                    fs.source = f"{blob.label}@0x{start:x}"
                    self.result.filesystems.append(fs)
                    nxt.extend(self._members(fs, blob.depth + 1))
                for sub_label, sub_path in out.blobs:
                    nxt.append(_Blob(f"{blob.label}/{sub_label}", sub_path, blob.depth + 1, blob.label))
            self._covered = start + (yield_size or 0)
        if not found and blob.depth > 0:
            self.leaves.append(blob)
        return nxt

    def _candidates(self, blob: _Blob):  # type: ignore[no-untyped-def]
        """Valid containers, earliest first, skipping what an earlier one covered."""
        with open(blob.path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size == 0:
                return
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                cands: list[tuple[int, int, Handler]] = []
                for order, h in enumerate(self.handlers):
                    for pat in h.patterns:
                        pos = mm.find(pat)
                        while pos >= 0:
                            start = pos - h.magic_offset
                            if start >= 0:
                                cands.append((start, order, h))
                            pos = mm.find(pat, pos + 1)
                cands.sort(key=lambda c: (c[0], c[1]))
                self._covered = 0
                data = memoryview(mm)
                try:
                    for start, _order, h in cands:
                        if start < self._covered:
                            continue
                        size = h.probe(data, start)
                        if not size:
                            if start == 0 and blob.depth == 0:
                                why = _diagnose(h, data)
                                if why:
                                    self.diagnoses.append(f"{h.name} at 0x0: {why}")
                            continue
                        self._covered = start + size
                        yield h, start, size
                finally:
                    data.release()

    def _members(self, fs: ExtractedFS, depth: int) -> list[_Blob]:
        """Member files worth opening (see policy); unblob trees are carved in full."""
        out: list[_Blob] = []
        liberal = fs.fstype == "unblob" and not fs.looks_like_root
        for meta in fs.entries.values():
            if meta.kind != KIND_FILE:
                continue
            host = fs.host_root / meta.path.lstrip("/")
            if liberal:
                reason: str | None = "carved by unblob"
            else:
                reason = worth_opening(meta, host, self.handlers)
            if reason:
                out.append(_Blob(f"{fs.id}:{meta.path}", host, depth, fs.source or fs.id))
        return out

    def _fallback(self, blob: _Blob) -> list[_Blob]:
        self.progress(f"unblob on {blob.label}")
        dest = self._dest("unblob")
        fs = run_unblob(blob.path, dest, self.ctx, blob.label)
        if fs is None:
            return []
        self.result.layers.append(Layer("unblob", 0, None, blob.depth, blob.parent, "fallback"))
        nxt: list[_Blob] = []
        for part in _split_roots(fs):
            part.id = f"fs{len(self.result.filesystems)}"
            part.source = f"{blob.label} (unblob)"
            self.result.filesystems.append(part)
            nxt.extend(self._members(part, blob.depth + 1))
        return nxt

    def _leaves_as_fs(self) -> None:
        """A bare compressed file or firmware payload: its contents as one flat tree."""
        fs = ExtractedFS(
            id=f"fs{len(self.result.filesystems)}",
            fstype="payload",
            host_root=self._dest("payload"),
            metadata_exact=False,
        )
        fs.host_root.mkdir(parents=True)
        fs.entries["/"] = MetaEntry(path="/", kind=KIND_DIR, mode=0o755)
        for i, leaf in enumerate(self.leaves):
            name = leaf.path.name if leaf.path.name not in fs.entries else f"{leaf.path.name}.{i}"
            os.link(leaf.path, fs.host_root / name) if _same_dev(leaf.path, fs.host_root) else shutil.copy(
                leaf.path, fs.host_root / name
            )
            fs.entries["/" + name] = MetaEntry(
                path="/" + name, kind=KIND_FILE, mode=0o644, size=leaf.path.stat().st_size
            )
        fs.source = self.image.name
        self.result.filesystems.append(fs)


def _same_dev(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_dev == b.stat().st_dev
    except OSError:
        return False


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


_SAMPLE = 4 << 20


def _describe_unknown(image: Path) -> str:
    """Why nothing matched, from the bytes alone: what libmagic calls them, and whether they
    look random (encrypted, or compressed by a method without a header)."""
    with open(image, "rb") as fh:
        data = fh.read(_SAMPLE)
    n = len(data)
    counts = [c for c in (data.count(bytes([b])) for b in range(256)) if c]
    # Miller-Madow: a short random sample would otherwise look less random than it is.
    entropy = -sum(c / n * math.log2(c / n) for c in counts) + (len(counts) - 1) / (2 * n * math.log(2))
    entropy = min(entropy, 8.0)
    facts = f"{entropy:.2f} bits/byte, starting {data[:8].hex(' ')}"
    kind = _libmagic(data)
    what = (
        f"libmagic: {kind}, which no handler here opens (not a container, or damaged)"
        if kind
        else "no known signature"
    )
    if entropy > 7.9:
        return (
            f"{what}; the bytes look random ({facts}): encrypted, or compressed by a method without a header"
        )
    return f"{what}; {facts}"


def _libmagic(data: bytes) -> str | None:
    """libmagic's name for the data (its first clause), unless it only says 'data'."""
    try:
        import magic
    except ImportError:
        return None
    try:
        kind = str(magic.from_buffer(data)).split(",")[0].strip()
    except Exception:  # a libmagic failure only costs the hint
        return None
    return kind[:80] if kind and kind != "data" else None


def _diagnose(h: Handler, data: memoryview) -> str | None:
    diag = getattr(h, "diagnose", None)
    return diag(data) if diag else None


_ROOT_DIRS = ("etc", "bin", "sbin", "lib", "usr", "var", "dev", "proc", "sys", "tmp", "root", "www")


def _rootness(fs: ExtractedFS, prefix: str) -> int:
    base = prefix.rstrip("/")
    return sum(1 for d in _ROOT_DIRS if f"{base}/{d}" in fs.entries)


def _subtree(fs: ExtractedFS, prefix: str) -> ExtractedFS:
    """The part of fs below prefix, as a filesystem of its own."""
    sub = ExtractedFS(
        id=fs.id,
        fstype=fs.fstype,
        host_root=fs.host_root / prefix.lstrip("/"),
        source=fs.source,
        metadata_exact=fs.metadata_exact,
    )
    cut = len(prefix)
    for p, meta in fs.entries.items():
        if p == prefix or p.startswith(prefix + "/"):
            inner = p[cut:] or "/"
            meta.path = inner
            sub.entries[inner] = meta
    return sub


def _reroot(fs: ExtractedFS) -> ExtractedFS:
    """An archive whose root filesystem sits one or two directories down (rootfs/,
    squashfs-root/, ...) is re-rooted there so paths read /etc/passwd."""
    if fs.looks_like_root:
        return fs
    best, score = None, 1
    for p, meta in fs.entries.items():
        if meta.kind == KIND_DIR and 1 <= p.count("/") <= 2 and p != "/":
            s = _rootness(fs, p)
            if s > score:
                best, score = p, s
    return _subtree(fs, best) if best else fs


def _split_roots(fs: ExtractedFS) -> list[ExtractedFS]:
    """unblob output: each root-like subtree on its own, the rest as one more tree."""
    roots: list[str] = []
    for p, meta in sorted(fs.entries.items()):
        if meta.kind != KIND_DIR or p == "/" or any(p.startswith(r + "/") for r in roots):
            continue
        if _rootness(fs, p) >= 3:
            roots.append(p)
    parts: list[ExtractedFS] = []
    rest = ExtractedFS(id=fs.id, fstype=fs.fstype, host_root=fs.host_root, metadata_exact=False)
    for p, meta in fs.entries.items():
        if not any(p == r or p.startswith(r + "/") for r in roots):
            rest.entries[p] = meta
    for r in roots:
        parts.append(_subtree(fs, r))
    if any(m.kind == KIND_FILE for m in rest.entries.values()):
        parts.append(rest)
    return parts


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
            inner = posixpath.join(base, name)
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
