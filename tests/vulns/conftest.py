"""A database built once per module from the committed sample feeds (real NVD 2.0/OSV/KEV formats)."""

from __future__ import annotations

from pathlib import Path

import pytest
from vuln_helpers import build_db


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_db(tmp_path_factory.mktemp("vulndb") / "vulns.sqlite")
