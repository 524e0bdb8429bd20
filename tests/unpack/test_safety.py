"""Safety limits, the work-dir jail, the unblob fallback, and bad input at the CLI."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from unpack_helpers import cli, make_tree, mksquashfs, need, run

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
        do_unpack(bomb, Limits(max_ratio=100))


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


def test_unblob_fallback_for_a_format_without_handler(tmp_path: Path, do_unpack) -> None:
    need("7z")
    root = make_tree(tmp_path / "t")
    img = tmp_path / "fw.7z"
    run("7z", "a", "-bd", img, "etc", "bin", "usr", cwd=root)
    result = do_unpack(img)
    assert any(layer.handler == "unblob" for layer in result.layers)
    fs = result.roots[0]
    assert not fs.metadata_exact and fs.looks_like_root
    assert (fs.host_root / "etc/passwd").is_file()


def test_unblob_fallback_where_the_start_method_is_already_fixed(tmp_path: Path) -> None:
    """unblob fixes the start method at import; a worker that fixed its own must still scan."""
    need("7z")
    root = make_tree(tmp_path / "t")
    img = tmp_path / "fw.7z"
    run("7z", "a", "-bd", img, "etc", "bin", "usr", cwd=root)
    code = (
        "import multiprocessing as mp, sys; from pathlib import Path; mp.set_start_method('spawn');"
        "from assay.unpack import unpack; r = unpack(Path(sys.argv[1]), Path(sys.argv[2]));"
        "print(r.layers[0].handler, sorted(r.roots[0].entries)[:3])"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(img), str(tmp_path / "w")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("unblob ['/', '/bin', '/bin/busybox']"), proc.stdout


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
    _one_line(cli("inspect", junk, "--workdir", work), 4, "unsupported image")


def test_cli_inspect_json(tmp_path: Path) -> None:
    import json

    img = mksquashfs(make_tree(tmp_path / "t"), tmp_path / "fs.sqfs")
    proc = cli("inspect", "--json", img)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    fs = data["filesystems"][0]
    assert fs["root"] and fs["setuid"] == ["/usr/bin/su"] and fs["metadata_exact"]
