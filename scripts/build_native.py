#!/usr/bin/env python3
"""Compile the hot binary-analysis module with mypyc into build/native (optional, fails soft).

    python scripts/build_native.py [--force]

`assay.analysis.binary` (the instruction tracker and the vectorised encoding scans) runs about a
quarter faster compiled. The compiled module is used only when its stamp holds the SHA-256 of
the source beside it (see assay.analysis), so an edited source is never shadowed by an old
build. Without mypyc, a C compiler or Python's headers this prints one line and exits 0: Assay
then runs the same code as plain Python.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from assay.analysis import native_matches

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("binary",)  # in src/assay/analysis
SOURCE = ROOT / "src" / "assay" / "analysis"
OUT = ROOT / "build" / "native" / "assay" / "analysis"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str]) -> int:
    if "--force" not in argv and native_matches(OUT, SOURCE):
        print("native build is current")
        return 0
    shutil.rmtree(OUT.parent.parent, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="assay-native-") as tmp:
        work = Path(tmp)
        pkg = work / "assay" / "analysis"
        pkg.mkdir(parents=True)
        (work / "assay" / "__init__.py").write_text("")
        (pkg / "__init__.py").write_text("")
        for m in MODULES:
            shutil.copy2(SOURCE / f"{m}.py", pkg / f"{m}.py")
        (work / "mypy.ini").write_text("[mypy]\nignore_missing_imports = True\n")
        cmd = [sys.executable, "-m", "mypyc", *(f"assay/analysis/{m}.py" for m in MODULES)]
        proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True)
        built = sorted(pkg.glob("*.so"))
        if proc.returncode != 0 or not built:
            last = (proc.stderr.strip() or proc.stdout.strip() or f"exit {proc.returncode}").splitlines()[-1]
            print(f"native build skipped, Assay runs as plain Python: {last}")
            return 0
        OUT.mkdir(parents=True)
        for so in built:
            shutil.copy2(so, OUT / so.name)
        for m in MODULES:
            (OUT / f"{m}.sha256").write_text(digest(pkg / f"{m}.py") + "\n")
    print(f"native build: {', '.join(p.name for p in sorted(OUT.glob('*.so')))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
