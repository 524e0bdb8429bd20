"""docs/checks.md is generated from the check registry and must be regenerated when checks change."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from assay.checks import all_checks

ROOT = Path(__file__).resolve().parents[2]


def test_committed_checks_doc_is_up_to_date() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen-checks-doc.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr + "\nrun: python scripts/gen-checks-doc.py"


def test_doc_lists_every_check_with_its_metadata() -> None:
    text = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    for check in all_checks():
        assert f"\n## {check.id}\n" in text
        assert f"`{check.category}`" in text
        for ref in check.references:
            assert f"<{ref}>" in text
