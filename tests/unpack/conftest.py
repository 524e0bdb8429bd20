"""Fixtures for the unpack tests (helpers live in unpack_helpers.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from unpack_helpers import make_tree

from assay.unpack import Limits, UnpackResult, unpack


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "rootfs")


@pytest.fixture
def do_unpack(tmp_path: Path) -> Callable[..., UnpackResult]:
    def go(image: Path, limits: Limits | None = None) -> UnpackResult:
        work = tmp_path / f"work-{image.name}"
        return unpack(image, work, limits)

    return go
