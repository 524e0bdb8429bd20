"""setuid-shell: shells found by their bytes, not their names; legitimate setuid kept apart."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from accounts_helpers import make_root, run_check  # noqa: E402

from assay.checks.setuid_shell.check import CHECK  # noqa: E402
from assay.model import Severity  # noqa: E402

TRUE = Path("/bin/true").read_bytes()


@pytest.fixture(scope="module")
def busybox_elf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real ELF carrying BusyBox's version banner, built with gcc."""
    gcc = shutil.which("gcc")
    assert gcc, "gcc is needed to build the test ELF"
    d = tmp_path_factory.mktemp("elf")
    src = d / "bb.c"
    src.write_text(
        'const char banner[] = "BusyBox v1.36.1 (2023-01-01) multi-call binary.";\n'
        "int main(void) { return banner[0] == 0; }\n"
    )
    subprocess.run([gcc, "-O0", "-o", str(d / "bb"), str(src)], check=True)
    return (d / "bb").read_bytes()


def base_files(bb: bytes) -> dict[str, str | bytes]:
    return {
        "/bin/busybox": bb,
        "/bin/su": TRUE,
        "/usr/bin/passwd": TRUE,
        "/etc/passwd": "root:x:0:0::/root:/bin/sh\n",
    }


LINKS = {"/bin/sh": "busybox", "/bin/ash": "/bin/busybox", "/usr/bin/telnet": "../../bin/busybox"}


def test_hidden_copy_of_busybox(tmp_path: Path, busybox_elf: bytes) -> None:
    files = {**base_files(busybox_elf), "/lib/.sys/sh": busybox_elf}
    root = make_root(tmp_path / "r", files, symlinks=LINKS, modes={"/lib/.sys/sh": 0o4755, "/bin/su": 0o4755})
    findings = run_check(CHECK, root)
    shells = [f for f in findings if f.category == "setuid-shell"]
    assert len(shells) == 1
    f = shells[0]
    assert (f.path, f.severity) == ("/lib/.sys/sh", Severity.CRITICAL)
    assert (
        f.details["identified_as"] == "busybox"
        and f.details["identified_by"] == "same sha256 as /bin/busybox"
    )
    assert f.evidence[0].details["mode"] == "-rwsr-xr-x"
    other = [f for f in findings if f.category == "setuid-binary"]
    assert [f.path for f in other] == ["/bin/su"] and other[0].severity == Severity.INFO


def test_renamed_shell_found_by_content_and_setgid(tmp_path: Path, busybox_elf: bytes) -> None:
    # Not byte-identical to any shell in the image and not named like one.
    patched = busybox_elf + b"\x00padding"
    files = {**base_files(busybox_elf), "/usr/sbin/syshelper": patched, "/usr/bin/bash": TRUE}
    root = make_root(
        tmp_path / "r", files, symlinks=LINKS, modes={"/usr/sbin/syshelper": 0o2755, "/usr/bin/bash": 0o4755}
    )
    found = {f.path: f for f in run_check(CHECK, root)}
    assert found["/usr/sbin/syshelper"].category == "setuid-shell"
    assert found["/usr/sbin/syshelper"].details["identified_by"] == "content signature"
    assert found["/usr/sbin/syshelper"].details["bits"] == "setgid"
    assert found["/usr/bin/bash"].category == "setuid-shell"  # by name: a setuid bash is root for anyone


def test_setuid_busybox_itself_is_explained_not_a_backdoor(tmp_path: Path, busybox_elf: bytes) -> None:
    root = make_root(tmp_path / "r", base_files(busybox_elf), symlinks=LINKS, modes={"/bin/busybox": 0o4755})
    (f,) = run_check(CHECK, root)
    assert (f.category, f.severity, f.path) == ("setuid-binary", Severity.LOW, "/bin/busybox")
    assert "/bin/sh" in f.evidence[0].details["applets"]


def test_odd_place_and_symlinks(tmp_path: Path, busybox_elf: bytes) -> None:
    files = {**base_files(busybox_elf), "/www/cgi-bin/helper": TRUE, "/tmp/.x/tool": TRUE}
    links = {**LINKS, "/usr/bin/helper": "/www/cgi-bin/helper"}
    root = make_root(
        tmp_path / "r", files, symlinks=links, modes={"/www/cgi-bin/helper": 0o4755, "/tmp/.x/tool": 0o4711}
    )
    found = {f.path: f for f in run_check(CHECK, root)}
    assert set(found) == {"/www/cgi-bin/helper", "/tmp/.x/tool"}  # never the symlink
    assert all(f.category == "setuid-shell" and f.severity == Severity.HIGH for f in found.values())


def test_no_setuid_no_findings(tmp_path: Path, busybox_elf: bytes) -> None:
    files = {**base_files(busybox_elf), "/lib/.sys/sh": busybox_elf}
    root = make_root(tmp_path / "r", files, symlinks=LINKS, modes={"/lib/.sys/sh": 0o755})
    assert run_check(CHECK, root) == []
