"""Safety limits, the work-dir jail, the unblob fallback, and bad input at the CLI."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import pytest
from unpack_helpers import ASSAY, IS_ROOT, cli, make_tree, mksquashfs, need, run

from assay.errors import LimitExceeded, UnsafeArchive
from assay.unpack import Limits
from assay.unpack.fallback import tame_tree
from assay.unpack.handlers.base import HandlerContext
from assay.unpack.limits import Budget, SafeWriter


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """64 MiB of zeros, gzipped to about 64 KiB."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.gz"
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * (1 << 20)
    with open(path, "wb") as fh:
        for _ in range(64):
            fh.write(co.compress(zeros))
        fh.write(co.flush())
    return path


def _disk_usage(root: Path) -> int:
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file())


def test_gzip_bomb_stops_at_max_bytes(bomb: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    proc = cli("scan", bomb, "-q", "--max-bytes", "10000000", "--workdir", work)
    assert proc.returncode == 5
    assert "limit exceeded" in proc.stderr and "10000000 bytes" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert _disk_usage(work) <= 10_000_000 + (1 << 20)


def test_gzip_bomb_stops_at_ratio(bomb: Path, do_unpack) -> None:
    with pytest.raises(LimitExceeded, match="expands more than 100x"):
        do_unpack(bomb, Limits(max_ratio=100, ratio_after=1 << 20))


def test_sparse_filesystem_image_is_not_a_bomb(tmp_path: Path, do_unpack) -> None:
    """A mostly empty ext2 image expands thousands of times from xz, to a few harmless MB."""
    need("mke2fs", "xz")
    img = tmp_path / "rootfs.ext2"
    run("mke2fs", "-q", "-t", "ext2", "-d", make_tree(tmp_path / "t"), img, "16M")
    run("xz", "-9", img)
    packed = tmp_path / "rootfs.ext2.xz"
    assert 1000 * packed.stat().st_size < (16 << 20)  # above the default ratio
    result = do_unpack(packed)
    assert [layer.handler for layer in result.layers] == ["xz", "extfs"]
    assert result.roots[0].entries["/usr/bin/su"].mode == 0o4755


def test_max_files_and_timeout(tmp_path: Path, do_unpack) -> None:
    img = mksquashfs(make_tree(tmp_path / "t"), tmp_path / "fs.sqfs")
    with pytest.raises(LimitExceeded, match="more than 3 files"):
        do_unpack(img, Limits(max_files=3))
    with pytest.raises(LimitExceeded, match="took longer than 0 s"):
        do_unpack(img, Limits(max_seconds_per_extractor=0.0))


def test_safe_writer_never_follows_a_host_symlink(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    outside.mkdir()
    root.mkdir()
    os.symlink(outside, root / "link")
    w = SafeWriter(root, Budget(Limits()))
    with pytest.raises(UnsafeArchive):
        w.write_bytes("/link/evil", b"x")
    with pytest.raises(UnsafeArchive):
        w.write_bytes("/link", b"x")  # O_NOFOLLOW on the leaf
    w.write_bytes("/../../a/../../ok", b"fine")
    assert (root / "ok").read_bytes() == b"fine"
    assert list(outside.iterdir()) == []


def test_tame_tree_records_links_and_strips_modes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "etc").mkdir(parents=True)
    (out / "etc/su").write_bytes(b"x")
    os.chmod(out / "etc/su", 0o4755)
    os.symlink("/etc/shadow", out / "etc/escape")
    os.mkfifo(out / "etc/fifo")
    ctx = HandlerContext(limits=Limits(), budget=Budget(Limits()))
    fs = tame_tree(out, ctx, "test")
    assert fs is not None and not fs.metadata_exact
    assert fs.entries["/etc/su"].mode == 0o4755  # as the tool left it, recorded
    assert not (out / "etc/su").stat().st_mode & 0o6000
    assert fs.entries["/etc/escape"].link_target == "/etc/shadow"
    assert not os.path.lexists(out / "etc/escape") and not os.path.lexists(out / "etc/fifo")


def test_unblob_fallback_for_a_format_without_handler(tmp_path: Path) -> None:
    """7z has no handler of Assay's own. unblob fixes the multiprocessing start method when
    imported, so the fallback must work in a worker (xdist, service, Dask) that fixed its own."""
    need("7z")
    root = make_tree(tmp_path / "t")
    img = tmp_path / "fw.7z"
    run("7z", "a", "-bd", img, "etc", "bin", "usr", cwd=root)
    code = (
        "import multiprocessing as mp, sys; from pathlib import Path; mp.set_start_method('spawn');"
        "from assay.unpack import unpack; r = unpack(Path(sys.argv[1]), Path(sys.argv[2])); fs = r.roots[0];"
        "print(r.layers[0].handler, fs.metadata_exact, fs.looks_like_root, fs.entries['/usr/bin/su'].kind,"
        "(fs.host_root / 'etc/passwd').read_bytes() == Path(sys.argv[3]).read_bytes())"
    )
    args = [str(img), str(tmp_path / "w"), str(root / "etc/passwd")]
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["unblob", "False", "True", "file", "True"], proc.stdout


def test_unblob_fallback_on_a_payload_none_of_ours_opens(tmp_path: Path, do_unpack) -> None:
    need("7z", "xz")
    root = make_tree(tmp_path / "t")
    img = tmp_path / "fw.7z"
    run("7z", "a", "-bd", img, "etc", "bin", "usr", cwd=root)
    run("xz", img)
    result = do_unpack(tmp_path / "fw.7z.xz")
    assert [(x.handler, x.depth) for x in result.layers] == [("xz", 0), ("unblob", 1)]
    assert result.roots[0].looks_like_root and "/usr/bin/su" in result.roots[0].entries


def _one_line(proc, code: int, *words: str) -> None:
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for w in words:
        assert w in lines[0]


def test_cli_bad_inputs(tmp_path: Path) -> None:
    _one_line(cli("scan", tmp_path / "missing.bin", "-q"), 3, "bad input", "no such file")
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    _one_line(cli("scan", empty, "-q"), 3, "file is empty")
    (tmp_path / "emptydir" / "sub").mkdir(parents=True)
    _one_line(cli("scan", tmp_path / "emptydir", "-q"), 3, "holds no files")


def test_cli_truncated_squashfs(tmp_path: Path) -> None:
    img = mksquashfs(make_tree(tmp_path / "t"), tmp_path / "fs.sqfs")
    raw = img.read_bytes()
    (used,) = struct.unpack_from("<Q", raw, 40)
    cut = tmp_path / "cut.sqfs"
    cut.write_bytes(raw[: used // 2])
    _one_line(cli("scan", cut, "-q"), 4, "unsupported image", "truncated")


def test_cli_random_bytes(tmp_path: Path) -> None:
    junk = tmp_path / "random.bin"
    junk.write_bytes(os.urandom(64 * 1024))
    work = tmp_path / "work"
    _one_line(cli("inspect", junk, "--workdir", work), 4, "unsupported image", "bytes look random")


def test_cli_encrypted_and_unknown_images(tmp_path: Path) -> None:
    need("openssl")
    img = mksquashfs(make_tree(tmp_path / "t"), tmp_path / "fs.sqfs")
    enc = tmp_path / "fw.enc"
    run("openssl", "enc", "-aes-256-cbc", "-pbkdf2", "-pass", "pass:vendor", "-in", img, "-out", enc)
    _one_line(
        cli("inspect", enc), 4, "unsupported image", "libmagic: openssl enc", "look random", "encrypted"
    )
    unknown = tmp_path / "vendor.bin"
    unknown.write_bytes(b"VNDR\x01\x00" + b"config=1\n" * 4000)
    _one_line(cli("inspect", unknown), 4, "no known signature", "starting 56 4e 44 52")


def test_cli_unreadable_file(tmp_path: Path) -> None:
    cmd = [ASSAY, "scan", "-q"]
    if IS_ROOT:  # root reads anything: run as nobody, on a file in a directory nobody can search
        need("setpriv")
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        os.chmod(tmp, 0o755)
        secret = Path(tmp) / "fw.bin"
        secret.write_bytes(b"\0" * 4096)
        secret.chmod(0)
        env = {**os.environ, "HOME": tmp, "XDG_DATA_HOME": tmp}  # nobody's own, not root's
        proc = subprocess.run(
            [*cmd, str(secret)], capture_output=True, text=True, timeout=60, cwd=tmp, env=env
        )
    _one_line(proc, 3, "bad input", "permission denied")


def test_cli_inspect_lists_layers_with_offset_and_format(tmp_path: Path) -> None:
    import gzip
    import json

    sqfs = mksquashfs(make_tree(tmp_path / "t"), tmp_path / "fs.sqfs")
    img = tmp_path / "fw.bin.gz"
    img.write_bytes(gzip.compress(b"\xff" * 0x1000 + sqfs.read_bytes()))
    proc = cli("inspect", "--json", img)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    layers = [(x["handler"], x["offset"], x["depth"]) for x in data["layers"]]
    assert layers == [("gzip", 0, 0), ("squashfs", 0x1000, 1)]
    fs = data["filesystems"][0]
    assert fs["root"] and fs["setuid"] == ["/usr/bin/su"] and fs["metadata_exact"]
    text = cli("inspect", img)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].startswith(f"gzip at 0x0 size {img.stat().st_size}")
    (used,) = struct.unpack_from("<Q", sqfs.read_bytes(), 40)  # bytes_used, without the padding
    assert lines[1].startswith(f"  squashfs at 0x1000 size {used}")
    assert lines[2].startswith("fs0: squashfs 5 files") and "(root)" in lines[2]
