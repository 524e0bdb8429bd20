"""Shared parsers and models that several checks and stages use.

`binary` may also be compiled by mypyc (scripts/build_native.py, part of `make install`) into
build/native. The compiled module is imported instead of the source only when its stamp holds
the SHA-256 of the source beside it, so an edited source is never shadowed by an old build;
ASSAY_NATIVE=0 turns it off.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_NATIVE = _HERE.parents[2] / "build" / "native" / "assay" / "analysis"


def native_matches(native: Path = _NATIVE, source: Path = _HERE) -> bool:
    """Whether every module compiled in `native` was built from the source now in `source`."""
    stamps = sorted(native.glob("*.sha256")) if native.is_dir() else []
    for stamp in stamps:
        module = source / f"{stamp.stem}.py"
        if not module.is_file() or not any(native.glob(f"{stamp.stem}.*.so")):
            return False
        if stamp.read_text().strip() != hashlib.sha256(module.read_bytes()).hexdigest():
            return False
    return bool(stamps)


if os.environ.get("ASSAY_NATIVE", "1") != "0" and native_matches():
    __path__.insert(0, str(_NATIVE))
