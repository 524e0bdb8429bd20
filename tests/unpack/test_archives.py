"""cpio (newc, odc, crc), tar and zip: metadata kept, names confined to the work dir."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest
from unpack_helpers import assert_metadata, need, run


def _inside(path: Path, root: Path) -> bool:
    return os.path.realpath(path).startswith(os.path.realpath(root) + os.sep)


def _no_escape(tmp_path: Path) -> None:
    """Nothing named 'evil' anywhere outside the work dirs."""
    for p in tmp_path.rglob("evil_*"):
        assert str(p.relative_to(tmp_path)).startswith("work-"), p
    assert not list(tmp_path.parent.glob("evil_*"))
    assert not Path("/etc/evil").exists()


@pytest.mark.parametrize("fmt", ["newc", "odc", "crc"])
def test_cpio_formats_keep_metadata(tree: Path, tmp_path: Path, do_unpack, fmt: str) -> None:
    need("cpio")
    names = run("find", ".", cwd=tree).stdout
    img = tmp_path / f"root.{fmt}.cpio"
    img.write_bytes(run("cpio", "-o", "-H", fmt, "--quiet", cwd=tree, input=names).stdout)
    result = do_unpack(img)
    assert result.image_format == "cpio"
    assert_metadata(result)


def test_initramfs_cpio_gzip(tree: Path, tmp_path: Path, do_unpack) -> None:
    need("cpio")
    names = run("find", ".", cwd=tree).stdout
    raw = run("cpio", "-o", "-H", "newc", "--quiet", cwd=tree, input=names).stdout
    img = tmp_path / "initramfs.cpio.gz"
    img.write_bytes(gzip.compress(raw))
    result = do_unpack(img)
    assert [layer.handler for layer in result.layers] == ["gzip", "cpio"]
    assert_metadata(result)


def _newc(name: str, data: bytes, mode: int = 0o100644) -> bytes:
    fields = [1, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name) + 1, 0]
    head = b"070701" + b"".join(f"{f:08x}".encode() for f in fields) + name.encode() + b"\0"
    head += b"\0" * (-len(head) % 4)
    return head + data + b"\0" * (-len(data) % 4)


def test_cpio_traversal_is_confined(tmp_path: Path, do_unpack) -> None:
    img = tmp_path / "bad.cpio"
    img.write_bytes(
        _newc("etc", b"", 0o40755)
        + _newc("etc/passwd", b"root:x:0:0::/:/bin/sh\n")
        + _newc("../../evil_cpio", b"x" * 600)
        + _newc("/etc/evil_abs", b"y")
        + _newc("TRAILER!!!", b"")
    )
    result = do_unpack(img)
    fs = result.roots[0]
    assert "/evil_cpio" in fs.entries and "/etc/evil_abs" in fs.entries
    assert any("tried to leave" in w for w in result.warnings)
    assert _inside(fs.host_root / "evil_cpio", tmp_path / "work-bad.cpio")
    _no_escape(tmp_path)


def _tar(entries: list[tarfile.TarInfo], datas: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for info in entries:
            data = datas.get(info.name)
            if data is not None:
                info.size = len(data)
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _info(name: str, kind: bytes = tarfile.REGTYPE, mode: int = 0o644, **kw: object) -> tarfile.TarInfo:
    i = tarfile.TarInfo(name)
    i.type = kind
    i.mode = mode
    for k, v in kw.items():
        setattr(i, k, v)
    return i


def test_tar_metadata_and_nested_root(tmp_path: Path, do_unpack) -> None:
    # A rootfs one directory down, as vendors ship it: rootfs/etc, rootfs/bin, ...
    entries = [
        _info("rootfs", tarfile.DIRTYPE, 0o755),
        _info("rootfs/etc", tarfile.DIRTYPE, 0o755),
        _info("rootfs/bin", tarfile.DIRTYPE, 0o755),
        _info("rootfs/etc/shadow", mode=0o600),
        _info("rootfs/bin/busybox", mode=0o755),
        _info("rootfs/bin/sh", tarfile.SYMTYPE, 0o777, linkname="busybox"),
        _info("rootfs/bin/su", mode=0o4755),
        _info("rootfs/bin/su2", tarfile.LNKTYPE, 0o4755, linkname="rootfs/bin/su"),
        _info("rootfs/home", tarfile.DIRTYPE, 0o755, uid=1000, gid=1000),
    ]
    img = tmp_path / "fw.tar"
    img.write_bytes(
        _tar(
            entries,
            {
                "rootfs/etc/shadow": b"root:!:1::::::\n",
                "rootfs/bin/busybox": b"B" * 900,
                "rootfs/bin/su": b"S" * 700,
            },
        )
    )
    fs = do_unpack(img).roots[0]
    e = fs.entries
    assert fs.looks_like_root and "/etc/shadow" in e  # re-rooted
    assert e["/etc/shadow"].mode == 0o600
    assert e["/bin/su"].mode == 0o4755 and e["/bin/su2"].mode == 0o4755
    assert (fs.host_root / "bin/su2").read_bytes() == b"S" * 700
    assert e["/bin/sh"].link_target == "busybox"
    assert (e["/home"].uid, e["/home"].gid) == (1000, 1000)


def test_tar_traversal_and_symlink_escape(tmp_path: Path, do_unpack) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    entries = [
        _info("etc", tarfile.DIRTYPE, 0o755),
        _info("bin", tarfile.DIRTYPE, 0o755),
        _info("../../evil_tar"),
        _info("/etc/evil_abs"),
        # A link that points out of the tree, then a file written "through" it.
        _info("escape", tarfile.SYMTYPE, 0o777, linkname=str(outside)),
        _info("escape/evil_through"),
        _info("up", tarfile.SYMTYPE, 0o777, linkname="../../.."),
        _info("up/evil_up"),
    ]
    data = {n: b"pwned" for n in ("../../evil_tar", "/etc/evil_abs", "escape/evil_through", "up/evil_up")}
    img = tmp_path / "bad.tar"
    img.write_bytes(_tar(entries, data))
    result = do_unpack(img)
    e = result.roots[0].entries
    assert e["/escape"].kind == "symlink" and e["/escape"].link_target == str(outside)
    assert "/escape/evil_through" not in e and "/up/evil_up" not in e
    assert list(outside.iterdir()) == []
    assert any("below the symlink" in w for w in result.warnings)
    assert any("tried to leave" in w for w in result.warnings)
    _no_escape(tmp_path)


def test_zip_modes_symlinks_and_traversal(tmp_path: Path, do_unpack) -> None:
    img = tmp_path / "fw.zip"
    with zipfile.ZipFile(img, "w") as zf:

        def add(name: str, data: bytes, mode: int) -> None:
            zi = zipfile.ZipInfo(name)
            zi.create_system = 3
            zi.external_attr = mode << 16
            zf.writestr(zi, data)

        add("etc/shadow", b"root:!:1::::::\n", 0o100600)
        add("bin/busybox", b"B" * 600, 0o100755)
        add("bin/su", b"S" * 600, 0o104755)
        add("bin/sh", b"busybox", 0o120777)
        add("../../evil_zip", b"pwned", 0o100644)
        add("/etc/evil_abs", b"pwned", 0o100644)
    result = do_unpack(img)
    fs = result.roots[0]
    assert not fs.metadata_exact  # zip records no owners
    e = fs.entries
    assert e["/etc/shadow"].mode == 0o600 and e["/bin/su"].mode == 0o4755
    assert e["/bin/sh"].kind == "symlink" and e["/bin/sh"].link_target == "busybox"
    assert not (fs.host_root / "bin/sh").is_symlink()
    assert "/evil_zip" in e
    _no_escape(tmp_path)
