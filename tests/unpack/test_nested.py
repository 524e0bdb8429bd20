"""Recursion: tar.gz -> squashfs -> cpio, and the policy that keeps data files closed."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path

from unpack_helpers import make_tree, mksquashfs, need, run

from assay.unpack import Limits


def _cpio(tree: Path) -> bytes:
    names = run("find", ".", cwd=tree).stdout
    return run("cpio", "-o", "-H", "newc", "--quiet", cwd=tree, input=names).stdout


def _nested(tmp_path: Path) -> Path:
    need("cpio")
    inner = make_tree(tmp_path / "initramfs")
    (inner / "init").write_bytes(b"#!/bin/sh\nexec /sbin/init\n" * 30)
    root = make_tree(tmp_path / "root")
    (root / "boot").mkdir()
    (root / "boot/initramfs.cpio").write_bytes(_cpio(inner))
    # Data that must stay closed: a man page, a tarball under /usr/share, a gzip of text.
    (root / "usr/share/man/man1").mkdir(parents=True)
    (root / "usr/share/man/man1/ls.1.gz").write_bytes(gzip.compress(b".TH LS 1\n" * 400))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        tf.add(root / "etc/passwd", "passwd")
    (root / "usr/share/data.tar").write_bytes(buf.getvalue().ljust(4096, b"\0"))
    (root / "etc/config.gz").write_bytes(gzip.compress(b"option x 1\n" * 200))
    sq = mksquashfs(root, tmp_path / "rootfs.sqfs")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        tf.add(sq, "firmware/rootfs.sqfs")
    img = tmp_path / "update.tar.gz"
    img.write_bytes(buf.getvalue())
    return img


def test_tar_gz_squashfs_cpio(tmp_path: Path, do_unpack) -> None:
    result = do_unpack(_nested(tmp_path))
    kinds = [(layer.handler, layer.depth) for layer in result.layers]
    assert kinds == [("gzip", 0), ("tar", 1), ("squashfs", 2), ("cpio", 3)]
    by_type = {fs.fstype: fs for fs in result.filesystems}
    assert by_type["squashfs"].looks_like_root and by_type["cpio"].looks_like_root
    cpio = by_type["cpio"]
    assert cpio.source.endswith("/boot/initramfs.cpio@0x0")
    assert cpio.entries["/usr/bin/su"].mode == 0o4755
    assert cpio.entries["/etc/shadow"].mode == 0o600
    # The primary root is the squashfs (it sits higher); the cpio is a second root.
    assert result.roots[0].fstype == "squashfs"


def test_policy_leaves_data_closed(tmp_path: Path, do_unpack) -> None:
    result = do_unpack(_nested(tmp_path))
    sources = [fs.source for fs in result.filesystems]
    assert not any("man1" in s or "data.tar" in s or "config.gz" in s for s in sources)
    assert len(result.filesystems) == 3  # tar, squashfs, cpio


def test_max_depth_stops_with_a_warning(tmp_path: Path, do_unpack) -> None:
    result = do_unpack(_nested(tmp_path), Limits(max_depth=2))
    assert [layer.handler for layer in result.layers] == ["gzip", "tar", "squashfs"]
    assert any("nesting deeper than 2" in w for w in result.warnings)


def test_directory_image_keeps_links_inside(tmp_path: Path, do_unpack) -> None:
    root = make_tree(tmp_path / "dir")
    secret = tmp_path / "secret.txt"
    secret.write_text("host secret")
    os.symlink(str(secret), root / "etc/leak")
    os.symlink("../../../../../../etc/hostname", root / "etc/up")
    result = do_unpack(root)
    fs = result.roots[0]
    assert result.image_format == "directory"
    assert fs.entries["/etc/leak"].kind == "symlink"
    assert fs.entries["/etc/leak"].link_target == str(secret)
    assert fs.entries["/usr/bin/su"].mode == 0o4755
    from assay.index import build_index

    index = build_index(result.filesystems)
    leak = index.get("/etc/leak")
    assert leak is not None and index.read(leak) == b""  # never followed onto the host
    assert index.resolve("/etc/leak") is None
    assert index.resolve("/etc/up") is None
