"""Helpers: small root filesystems packed with mksquashfs, binaries built with gcc."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cli_in_process import run_cli as run_main  # noqa: F401 - re-exported to the tests

HELLO_C = r"""
#include <stdio.h>
#include <string.h>
int greet(const char *who) { return printf("hello %s %zu\n", who, strlen(who)); }
int main(int argc, char **argv) { return greet(argc > 1 ? argv[1] : "world") < 0; }
"""
HELLO2_C = HELLO_C.replace("hello %s", "hi there %s").replace(
    "int main", 'int extra_export(void) { return puts("x"); }\nint main'
)

RCS = "#!/bin/sh\nmount -a\n/sbin/syslogd -n &\n"
SHADOW = "root:$1$saltsalt$qjXMvbEw8oaL.CzflDugX/:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n"
PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
README = "".join(f"line {i}: documentation text that is long enough for a fuzzy hash\n" for i in range(40))


def need(*tools: str) -> None:
    for t in tools:
        if shutil.which(t) is None:
            pytest.skip(f"{t} is not installed")


def gcc(src: str, out: Path, build_id: str) -> Path:
    need("gcc")
    # One source name for all builds: the ELF symbol table records it.
    c = out.parent / f"{out.name}.src" / "main.c"
    c.parent.mkdir(exist_ok=True)
    c.write_text(src)
    subprocess.run(
        ["gcc", "-O1", "-rdynamic", "-o", str(out), str(c), f"-Wl,--build-id=0x{build_id}"],
        check=True,
        capture_output=True,
    )
    return out


def make_rootfs(root: Path, hello: Path) -> Path:
    (root / "etc/init.d").mkdir(parents=True)
    (root / "bin").mkdir()
    (root / "usr/share/doc").mkdir(parents=True)
    (root / "etc/passwd").write_text(PASSWD)
    (root / "etc/shadow").write_text(SHADOW)
    (root / "etc/init.d/rcS").write_text(RCS)
    (root / "etc/init.d/rcS").chmod(0o755)
    (root / "etc/inittab").write_text(
        "::sysinit:/etc/init.d/rcS\nttyS0::respawn:/sbin/getty -L ttyS0 115200\n"
    )
    (root / "usr/share/doc/readme.txt").write_text(README)
    shutil.copy(hello, root / "bin/hello")
    (root / "bin/hello").chmod(0o755)
    shutil.copy(hello, root / "bin/busybox")  # stands in for the multi-call binary applets resolve to
    (root / "bin/sh").symlink_to("busybox")
    return root


def mksquashfs(src: Path, out: Path, mtime: int = 1_700_000_000) -> Path:
    need("mksquashfs")
    subprocess.run(
        ["mksquashfs", str(src), str(out), "-noappend", "-quiet", "-no-progress", "-all-root"]
        + ["-all-time", str(mtime), "-mkfs-time", str(mtime)],
        check=True,
        capture_output=True,
    )
    return out


def assay_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The real command line, as a user runs it."""
    exe = Path(sys.executable).with_name("assay")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120)
