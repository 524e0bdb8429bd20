"""Build stripped -O2 test programs with the host and cross compilers, and index a tree."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from assay.checks.base import CheckContext
from assay.index import build_index
from assay.unpack import index_directory

COMPILERS = {
    "x86_64": "gcc",
    "mipsel": "mipsel-linux-gnu-gcc",
    "arm": "arm-linux-gnueabi-gcc",
    "thumb": "arm-linux-gnueabi-gcc",
    "aarch64": "aarch64-linux-gnu-gcc",
    "mips": "mips-linux-gnu-gcc",  # big-endian, as on many Atheros/Qualcomm routers
    "thumb2": "arm-linux-gnueabi-gcc",  # ARMv7 Thumb-2, as Debian's armhf builds everything
}
EXTRA = {"thumb": ["-mthumb"], "thumb2": ["-march=armv7-a", "-mthumb"]}

Compile = Callable[[str, str], bytes]


@pytest.fixture
def compile_c(tmp_path: Path) -> Compile:
    """compile_c(source, target) -> bytes of a stripped, -O2, dynamically linked program."""

    def build(source: str, target: str) -> bytes:
        cc = COMPILERS[target]
        if shutil.which(cc) is None:
            pytest.skip(f"{cc} is not installed")
        src = tmp_path / f"prog-{target}.c"
        out = tmp_path / f"prog-{target}"
        src.write_text(source)
        subprocess.run([cc, "-O2", "-s", *EXTRA.get(target, []), "-o", str(out), str(src)], check=True)
        return out.read_bytes()

    return build


@pytest.fixture
def context(tmp_path: Path) -> Callable[[dict[str, bytes | str]], CheckContext]:
    """context({path: content}) -> a CheckContext over that tree, indexed as a scan would."""

    def build(files: dict[str, bytes | str]) -> CheckContext:
        root = tmp_path / "rootfs"
        for path, content in files.items():
            host = root / path.lstrip("/")
            host.parent.mkdir(parents=True, exist_ok=True)
            host.write_bytes(content.encode() if isinstance(content, str) else content)
            host.chmod(0o755)
        return CheckContext(index=build_index([index_directory(root, "fs0")]))

    return build
