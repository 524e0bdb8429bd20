"""The assay CLI entry point run in the test process (no interpreter start-up per call)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest


def run_cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `assay ARGS`, as main() ends it."""
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
