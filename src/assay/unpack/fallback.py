"""The unblob fallback, for blobs none of Assay's own handlers opens (vendor headers,
odd filesystems).

unblob runs as a library in a child process (`python -m assay.unpack._unblob_child`), at
depth 1 so that Assay's own recursion policy decides what is opened next. The child
gets its own output dir inside the work dir and runs in unblob's landlock sandbox
when the kernel offers one; the parent enforces the time and byte limits by killing
it. Afterwards the output is walked with lstat only: symlinks, device nodes and
anything that resolves outside the output dir are recorded (or dropped) and removed
from the host, and modes are reset to 0644/0755. unblob's extractors reset modes and
owners, so these trees are marked metadata_exact=False.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from assay.unpack.base import KIND_DIR, KIND_FILE, KIND_SYMLINK, ExtractedFS, MetaEntry, kind_from_mode
from assay.unpack.handlers.base import HandlerContext
from assay.unpack.limits import within

_POLL = 0.2


class FallbackError(Exception):
    pass


def unblob_available() -> bool:
    # Never import unblob here: its import calls multiprocessing.set_start_method("fork"),
    # which raises once the process (a pytest-xdist, service or Dask worker) fixed its own.
    return importlib.util.find_spec("unblob") is not None


def run_unblob(blob: Path, outdir: Path, ctx: HandlerContext, what: str) -> ExtractedFS | None:
    """Extract blob one level deep with unblob; the tamed output as one tree, or None."""
    outdir.mkdir(parents=True, exist_ok=True)
    log = outdir.parent / (outdir.name + ".log")
    deadline = ctx.deadline(f"unblob on {what}")
    cmd = [sys.executable, "-m", "assay.unpack._unblob_child", str(blob), str(outdir)]
    with open(log, "wb") as logf:
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            while proc.poll() is None:
                time.sleep(_POLL)
                if deadline.remaining <= 0:
                    raise deadline.error()
                if ctx.budget.bytes + _tree_bytes(outdir) > ctx.limits.max_total_bytes:
                    ctx.budget.add_bytes(_tree_bytes(outdir))  # raises LimitExceeded
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    fs = tame_tree(outdir, ctx, what)
    if proc.returncode != 0:
        tail = _last_line(log)
        ctx.warnings.append(f"unblob on {what} failed: {tail}")
    return fs


def _tree_bytes(root: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(root, followlinks=False):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def _last_line(log: Path) -> str:
    try:
        lines = [ln for ln in log.read_text("utf-8", "replace").splitlines() if ln.strip()]
    except OSError:
        return "no output"
    return lines[-1].strip()[:200] if lines else "no output"


def tame_tree(root: Path, ctx: HandlerContext, what: str) -> ExtractedFS | None:
    """Record what a foreign tool wrote (lstat only), then leave only plain files and
    directories on disk with harmless modes."""
    real_root = os.path.realpath(root)
    fs = ExtractedFS(id="", fstype="unblob", host_root=root, metadata_exact=False)
    fs.entries["/"] = MetaEntry(path="/", kind=KIND_DIR, mode=0o755)
    files = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        rel = os.path.relpath(dirpath, root)
        base = "" if rel == "." else "/" + rel.replace(os.sep, "/")
        if not within(real_root, os.path.realpath(dirpath)):
            ctx.warnings.append(f"unblob on {what}: {base} resolves outside its output dir; dropped")
            dirnames[:] = []
            continue
        keep: list[str] = []
        for name in dirnames + filenames:
            host = os.path.join(dirpath, name)
            inner = f"{base}/{name}"
            try:
                st = os.lstat(host)
            except OSError:
                continue
            kind = kind_from_mode(st.st_mode)
            meta = MetaEntry(path=inner, kind=kind, mode=st.st_mode & 0o7777, uid=st.st_uid, gid=st.st_gid)
            if kind == KIND_SYMLINK:
                meta.link_target = os.readlink(host)
                os.unlink(host)
            elif kind == KIND_DIR:
                os.chmod(host, 0o755)
                keep.append(name)
            elif kind == KIND_FILE:
                os.chmod(host, 0o755 if st.st_mode & 0o111 else 0o644)
                meta.size = st.st_size
                ctx.budget.add_bytes(st.st_size)
            else:
                os.unlink(host)
            ctx.budget.add_file()
            files += 1
            fs.entries[inner] = meta
        dirnames[:] = [d for d in dirnames if d in keep]
    if files == 0:
        shutil.rmtree(root, ignore_errors=True)
        return None
    return fs
