"""world-writable: o+w files and non-sticky directories; sticky /tmp, symlinks and std devices pass."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from accounts_helpers import make_root, run_check  # noqa: E402

from assay.checks.world_writable.check import CHECK  # noqa: E402
from assay.model import Severity  # noqa: E402


def test_world_writable(tmp_path: Path) -> None:
    root = make_root(
        tmp_path / "r",
        {"/etc/init.d/rcS": "#!/bin/sh\n", "/www/data.txt": "x", "/etc/ok.conf": "x", "/tmp/.keep": ""},
        symlinks={"/var": "/tmp"},
        modes={"/etc/init.d/rcS": 0o777, "/www/data.txt": 0o666, "/tmp": 0o1777},
    )
    (root / "upload").mkdir()
    os.chmod(root / "upload", 0o777)
    os.mkfifo(root / "tmp" / "fifo")
    os.chmod(root / "tmp" / "fifo", 0o666)
    found = {f.path: f for f in run_check(CHECK, root)}
    assert set(found) == {"/etc/init.d/rcS", "/www/data.txt", "/upload", "/tmp/fifo"}
    assert found["/etc/init.d/rcS"].severity == Severity.HIGH
    assert found["/www/data.txt"].severity == Severity.MEDIUM
    assert found["/upload"].details["kind"] == "dir"
    assert found["/tmp/fifo"].severity == Severity.LOW
    assert all(f.category == "file-permissions" for f in found.values())
    assert found["/www/data.txt"].evidence[0].details["mode"] == "-rw-rw-rw-"
