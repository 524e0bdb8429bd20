"""Fixtures for the compare tests: binaries built once per session, fresh root filesystems."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cmp_helpers import HELLO2_C, HELLO_C, gcc, make_rootfs


@pytest.fixture(scope="session")
def binaries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bin")
    return {
        "hello_a": gcc(HELLO_C, d / "hello_a", "a1" * 10),
        "hello_b": gcc(HELLO_C, d / "hello_b", "b2" * 10),
        "hello2": gcc(HELLO2_C, d / "hello2", "c3" * 10),
    }


@pytest.fixture
def rootfs(tmp_path: Path, binaries: dict[str, Path]) -> Callable[[str], Path]:
    """A fresh copy of the base root filesystem under tmp_path/name."""

    def make(name: str) -> Path:
        return make_rootfs(tmp_path / name, binaries["hello_a"])

    return make
