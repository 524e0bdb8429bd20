"""unsafe-functions: imports and call-site counts read from the code of each architecture."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from assay.checks.base import CheckContext
from assay.checks.unsafe_functions.check import CHECK
from assay.index import build_index
from assay.model import Severity
from assay.unpack import index_directory

SRC = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
char g[64];
__attribute__((noinline)) void a(const char *s) { strcpy(g, s); }
__attribute__((noinline)) void b(const char *s) { strcpy(g + 8, s); }
__attribute__((noinline)) void c(const char *s) { char cmd[128]; sprintf(cmd, "ping -c1 %s", s); system(cmd); }
int main(int argc, char **argv) { if (argc > 1) { a(argv[1]); b(argv[1]); c(argv[1]); } return 0; }
"""

TARGETS = {
    "x86_64": ("gcc", []),
    "mipsel": ("mipsel-linux-gnu-gcc", []),
    "arm": ("arm-linux-gnueabi-gcc", []),
    "thumb": ("arm-linux-gnueabi-gcc", ["-mthumb"]),
    "thumb2": ("arm-linux-gnueabi-gcc", ["-march=armv7-a", "-mthumb"]),
    "aarch64": ("aarch64-linux-gnu-gcc", []),
    "mips": ("mips-linux-gnu-gcc", []),
}


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_counts_per_function(tmp_path: Path, target: str) -> None:
    cc, extra = TARGETS[target]
    if shutil.which(cc) is None:
        pytest.skip(f"{cc} is not installed")
    root = tmp_path / "rootfs"
    (root / "usr/bin").mkdir(parents=True)
    (tmp_path / "p.c").write_text(SRC)
    subprocess.run(
        [cc, "-O2", "-s", *extra, "-o", str(root / "usr/bin/pingd"), str(tmp_path / "p.c")], check=True
    )
    (root / "usr/bin/clean").write_bytes(Path("/bin/true").read_bytes())
    found = list(CHECK.run(CheckContext(index=build_index([index_directory(root, "fs0")]))))
    assert [f.path for f in found] == ["/usr/bin/pingd"]
    f = found[0]
    assert f.severity == Severity.INFO and f.category == "hardening"
    counts = {k: v["call_sites"] for k, v in f.details["functions"].items()}
    assert counts == {"strcpy": 2, "sprintf": 1, "system": 1}
    assert f.details["total_call_sites"] == 4
