"""The mypyc build of assay.analysis.binary: used only when current, and the same as plain Python."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import assay.analysis as analysis
from assay.analysis import native_matches
from c_programs import LOGIN_C

SOURCE = Path(analysis.__file__).parent / "binary.py"


def _native(tmp_path: Path, stamp: str | None, so: bool = True) -> Path:
    native = tmp_path / "native"
    native.mkdir(parents=True)
    if so:
        (native / "binary.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    if stamp is not None:
        (native / "binary.sha256").write_text(stamp + "\n")
    return native


def test_only_a_build_of_the_source_beside_it_is_used(tmp_path: Path) -> None:
    current = hashlib.sha256(SOURCE.read_bytes()).hexdigest()
    assert native_matches(_native(tmp_path / "a", current), SOURCE.parent)
    assert not native_matches(_native(tmp_path / "b", "0" * 64), SOURCE.parent)  # source edited since
    assert not native_matches(_native(tmp_path / "c", current, so=False), SOURCE.parent)
    assert not native_matches(_native(tmp_path / "d", None), SOURCE.parent)
    assert not native_matches(tmp_path / "absent", SOURCE.parent)


SCAN = r"""
import json, sys
from pathlib import Path
import assay.analysis.binary as b
from assay.checks import CheckContext, all_checks, run_checks
from assay.index import build_index
from assay.unpack import index_directory
ids = ("hardcoded-credential", "unsafe-functions", "binary-hardening", "phone-home", "known-backdoor")
run = run_checks(CheckContext(index=build_index([index_directory(Path(sys.argv[1]), "fs0")])),
                 [c for c in all_checks() if c.id in ids], jobs=1)
print(json.dumps({"module": Path(b.__file__).suffix, "errors": run.errors,
                  "findings": [f.to_dict() for f in run.findings]}, sort_keys=True))
"""


@pytest.mark.skipif(not native_matches(), reason="no current native build (scripts/build_native.py)")
def test_compiled_and_plain_python_give_the_same_findings(tmp_path: Path) -> None:
    root = tmp_path / "rootfs" / "usr" / "sbin"
    root.mkdir(parents=True)
    src = tmp_path / "login.c"
    src.write_text(LOGIN_C % ("support", "Tr0ub4dor&3"))
    built = 0
    for cc in ("gcc", "mipsel-linux-gnu-gcc", "arm-linux-gnueabi-gcc"):
        if shutil.which(cc):
            subprocess.run(
                [cc, "-O2", "-s", "-o", str(root / f"login-{cc.split('-')[0]}"), str(src)], check=True
            )
            built += 1
    assert built
    script = tmp_path / "scan.py"
    script.write_text(SCAN)
    out = {}
    for native in ("1", "0"):
        env = {**os.environ, "ASSAY_NATIVE": native}
        proc = subprocess.run(
            [sys.executable, str(script), str(tmp_path / "rootfs")],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        out[native] = json.loads(proc.stdout)
    assert out["1"]["module"] == ".so" and out["0"]["module"] == ".py"
    assert out["1"]["errors"] == out["0"]["errors"] == {}
    assert out["1"]["findings"] == out["0"]["findings"]
    assert any(f["rule"] == "hardcoded-credential" for f in out["1"]["findings"])
