"""Fixtures for inventory tests: C programs and libraries built with real compilers, indexed trees."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from assay.index import FileIndex, build_index
from assay.unpack import index_directory

Build = Callable[..., bytes]
Index = Callable[..., FileIndex]


def _c_char(byte: int) -> str:
    # Octal escapes are always three digits, so a following digit is never swallowed.
    return chr(byte) if 32 <= byte < 127 and chr(byte) not in '\\"?' else f"\\{byte:03o}"


def _c_strings(strings: tuple[str, ...]) -> str:
    """C source whose main prints every string, so -O2 keeps them all in .rodata."""
    body = ",\n".join('  "' + "".join(_c_char(c) for c in s.encode("latin-1")) + '"' for s in strings)
    return (
        "#include <stdio.h>\n"
        f"static const char *const texts[] = {{\n{body}\n}};\n"
        "int main(int argc, char **argv) {\n"
        "  (void)argv;\n"
        "  for (unsigned i = 0; i < sizeof texts / sizeof *texts; i++)\n"
        "    if (argc > (int)i) puts(texts[i]);\n"
        "  return 0;\n"
        "}\n"
    )


@pytest.fixture
def build_c(tmp_path: Path) -> Build:
    """build_c(source or strings, cc=, shared_soname=, link=) -> bytes of a stripped -O2 ELF.

    Given a tuple of strings instead of C source, builds a program that prints them all.
    """
    counter = iter(range(1000))

    def build(
        source: str | tuple[str, ...],
        cc: str = "gcc",
        shared_soname: str | None = None,
        link: tuple[Path, ...] = (),
    ) -> bytes:
        if shutil.which(cc) is None:
            pytest.skip(f"{cc} is not installed")
        n = next(counter)
        src = tmp_path / f"src{n}.c"
        out = tmp_path / (shared_soname or f"prog{n}")
        src.write_text(source if isinstance(source, str) else _c_strings(source))
        cmd = [cc, "-O2", "-s", "-o", str(out), str(src)]
        if shared_soname:
            cmd += ["-shared", "-fPIC", f"-Wl,-soname,{shared_soname}"]
        if link:  # keep DT_NEEDED even though main() calls nothing in them
            cmd += ["-Wl,--no-as-needed", *map(str, link)]
        subprocess.run(cmd, check=True, capture_output=True)
        return out.read_bytes()

    return build


@pytest.fixture
def index_of(make_tree: Callable[..., Path]) -> Index:
    """index_of({image path: bytes | str}, dirs=()) -> the FileIndex a scan of that tree builds."""
    counter = iter(range(1000))

    def build(files: Mapping[str, bytes | str], dirs: tuple[str, ...] = ()) -> FileIndex:
        root = make_tree(files, name=f"rootfs{next(counter)}", dirs=dirs)
        return build_index([index_directory(root, "fs0")])

    return build
