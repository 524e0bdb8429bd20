"""Shared by the vulnerability tests: the committed sample feeds and a database built from them."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from assay.model import Component
from assay.vulns.db import VulnDB
from assay.vulns.importers import import_path

# The shared fixtures of tests/conftest.py, as tests here use them.
InProcess = Callable[..., tuple[int, str, str]]
RunAssay = Callable[..., subprocess.CompletedProcess[str]]
MakeTree = Callable[..., Path]

DATA = Path(__file__).parent / "data"
SAMPLES = (
    "nvdcve-2.0-sample.json",
    "nvdcve-2.0-modified.json.gz",
    "osv",
    "kev-sample.csv",
    "stream_fixes-sample.json",
    "CVEs-sample.txt",
)


def build_db(path: Path) -> Path:
    with VulnDB(path, create=True) as db:
        for name in SAMPLES:
            import_path(db, DATA / name)
    return path


def component(
    name: str, version: str | None, *, cpe: str | None = None, purl: str | None = None
) -> Component:
    return Component(name=name, version=version, purl=purl, cpe=cpe, paths=[f"/usr/lib/{name}"])
