"""Shared by the vulnerability tests: the committed sample feeds and a database built from them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from assay.model import Component
from assay.vulns.db import VulnDB
from assay.vulns.importers import import_path

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


def cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """The CLI entry point in this process (no interpreter start-up): exit code, stdout, stderr."""
    from assay.cli import main

    old = sys.argv
    sys.argv = ["assay", *map(str, args)]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = old
    out = capsys.readouterr()
    return code, out.out, out.err
