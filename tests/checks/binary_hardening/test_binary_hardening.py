"""binary-hardening: checksec flags of programs built with and without each mitigation."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from assay.analysis.binary import load_elf
from assay.checks.base import CheckContext
from assay.checks.binary_hardening.check import CHECK, checksec
from assay.index import build_index
from assay.model import Severity
from assay.unpack import index_directory

SRC = r"""
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
    char buf[32];
    if (argc > 1) { strcpy(buf, argv[1]); sprintf(buf + 1, "%s", argv[1]); }
    puts(buf);
    return 0;
}
"""

HARDENED = ["-O2", "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2", "-fPIE", "-pie", "-Wl,-z,relro,-z,now"]
SOFT = ["-O0", "-fno-stack-protector", "-no-pie", "-fno-pie", "-z", "execstack", "-Wl,-z,norelro"]


def _cc(tmp_path: Path, name: str, flags: list[str], compiler: str = "gcc") -> bytes:
    if shutil.which(compiler) is None:
        pytest.skip(f"{compiler} is not installed")
    src = tmp_path / "p.c"
    src.write_text(SRC)
    out = tmp_path / name
    subprocess.run([compiler, *flags, "-s", "-o", str(out), str(src)], check=True, capture_output=True)
    return out.read_bytes()


@pytest.mark.parametrize(
    "compiler",
    ["gcc", "mipsel-linux-gnu-gcc", "arm-linux-gnueabi-gcc", "aarch64-linux-gnu-gcc", "mips-linux-gnu-gcc"],
)
def test_flags_follow_the_build(tmp_path: Path, compiler: str) -> None:
    hard = load_elf(_cc(tmp_path, "hard", HARDENED, compiler), code=False)
    soft = load_elf(_cc(tmp_path, "soft", SOFT, compiler), code=False)
    assert hard is not None and soft is not None
    h, s = checksec(hard), checksec(soft)
    assert h["pie"] is True and h["canary"] is True and h["fortify"] is True
    # Debian's MIPS toolchain marks the stack executable (PT_GNU_STACK RWE) unless told otherwise
    assert h["nx"] is ("mips" not in compiler)
    assert s["pie"] is False and s["canary"] is False and s["fortify"] is False and s["nx"] is False
    assert s["relro"] == "none"
    if "mips" not in compiler:  # MIPS keeps .got writable: never full RELRO
        assert h["relro"] == "full"


def test_one_finding_per_weak_binary_with_evidence(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "usr/sbin").mkdir(parents=True)
    (root / "usr/sbin/soft").write_bytes(_cc(tmp_path, "soft", SOFT))
    (root / "usr/sbin/hard").write_bytes(_cc(tmp_path, "hard", HARDENED))
    (root / "usr/lib").mkdir(parents=True)
    lib = tmp_path / "libx.so"
    (tmp_path / "l.c").write_text("int f(int x) { return x + 1; }\n")
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", str(lib), str(tmp_path / "l.c")], check=True)
    (root / "usr/lib/libx.so").write_bytes(lib.read_bytes())
    found = {f.path: f for f in CHECK.run(CheckContext(index=build_index([index_directory(root, "fs0")])))}
    assert "/usr/sbin/hard" not in found
    soft = found["/usr/sbin/soft"]
    assert soft.category == "hardening" and soft.severity == Severity.LOW
    assert set(soft.details["missing"]) == {"NX", "PIE", "RELRO", "stack canary", "FORTIFY"}
    assert soft.evidence[0].sha256 and soft.evidence[0].details["nx"] is False
    if "/usr/lib/libx.so" in found:
        assert found["/usr/lib/libx.so"].details["pie"] is None  # not applicable to a library
        assert "PIE" not in found["/usr/lib/libx.so"].details["missing"]
