"""Helpers for the unpack tests: a small root filesystem tree and helpers that pack it
with real tools. Everything is built in tmp dirs; nothing is read from ../shared."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assay.unpack import UnpackResult

ASSAY = str(Path(sys.executable).parent / "assay")
IS_ROOT = os.geteuid() == 0

BUSYBOX = b"\x7fELF" + b"\x01\x01\x01" + b"\0" * 9 + b"fake busybox " * 200
PASSWD = b"root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n"
SHADOW = b"root:$1$abc$def:19000:0:99999:7:::\n"


def need(*tools: str) -> None:
    for t in tools:
        if shutil.which(t) is None:
            pytest.skip(f"{t} not installed")


def run(*cmd: str | Path, **kw: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, **kw)  # type: ignore[call-overload]


def make_tree(root: Path, owners: bool = True) -> Path:
    """etc/passwd, etc/shadow (0600), bin/busybox, bin/sh -> busybox,
    usr/bin/su (setuid 4755), home/user/notes (uid/gid 1000)."""
    (root / "etc").mkdir(parents=True)
    (root / "bin").mkdir()
    (root / "usr/bin").mkdir(parents=True)
    (root / "home/user").mkdir(parents=True)
    (root / "etc/passwd").write_bytes(PASSWD)
    (root / "etc/shadow").write_bytes(SHADOW)
    os.chmod(root / "etc/shadow", 0o600)
    (root / "bin/busybox").write_bytes(BUSYBOX)
    os.chmod(root / "bin/busybox", 0o755)
    os.symlink("busybox", root / "bin/sh")
    (root / "usr/bin/su").write_bytes(BUSYBOX[:200])
    os.chmod(root / "usr/bin/su", 0o4755)
    (root / "home/user/notes").write_bytes(b"hello\n")
    if owners and IS_ROOT:
        os.chown(root / "home/user/notes", 1000, 1000)
        os.chown(root / "home/user", 1000, 1000)
    return root


def assert_metadata(result: UnpackResult, owners: bool = True) -> None:
    """The facts make_tree planted, as the unpacked metadata must report them."""
    fs = result.roots[0]
    e = fs.entries
    assert fs.looks_like_root
    assert e["/etc/shadow"].mode == 0o600
    assert e["/usr/bin/su"].mode == 0o4755
    assert e["/bin/sh"].kind == "symlink" and e["/bin/sh"].link_target == "busybox"
    assert e["/bin/busybox"].mode == 0o755
    if owners and IS_ROOT:
        assert (e["/home/user/notes"].uid, e["/home/user/notes"].gid) == (1000, 1000)
    # Host copies: plain files, never setuid, no symlinks.
    host = fs.host_root
    assert (host / "etc/passwd").read_bytes() == PASSWD
    assert (host / "bin/busybox").read_bytes() == BUSYBOX
    assert not (host / "usr/bin/su").stat().st_mode & 0o6000
    assert not (host / "bin/sh").is_symlink()
    for dirpath, dirs, files in os.walk(host):
        for n in dirs + files:
            st = os.lstat(os.path.join(dirpath, n))
            assert not st.st_mode & 0o6000, n
            assert not os.path.islink(os.path.join(dirpath, n)), n


def mksquashfs(src: Path, out: Path, *extra: str) -> Path:
    need("mksquashfs")
    run("mksquashfs", src, out, "-noappend", "-quiet", "-no-progress", "-comp", "gzip", *extra)
    return out


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ASSAY, *[str(a) for a in args]], capture_output=True, text=True, timeout=120)
