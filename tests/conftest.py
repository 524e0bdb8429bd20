"""Shared fixtures: build small firmware images with real tools, run the CLI as a user would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

BuildTree = Callable[..., Path]
BuildImage = Callable[..., Path]
RunAssay = Callable[..., subprocess.CompletedProcess[str]]


def require_tool(name: str) -> str:
    """Path of a host tool the tests need; fail loudly rather than skip (make test installs them)."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        pytest.fail(f"{name} is not installed; run `make test` (it installs scripts/apt-packages.txt)")
    return found


def write_tree(
    root: Path,
    files: Mapping[str, bytes | str],
    *,
    symlinks: Mapping[str, str] | None = None,
    modes: Mapping[str, int] | None = None,
    dirs: tuple[str, ...] = (),
) -> Path:
    """Materialise a root filesystem: paths are image paths ('/etc/passwd'), modes are applied last."""
    root.mkdir(parents=True, exist_ok=True)
    for d in dirs:
        (root / d.lstrip("/")).mkdir(parents=True, exist_ok=True)
    for path, content in files.items():
        host = root / path.lstrip("/")
        host.parent.mkdir(parents=True, exist_ok=True)
        host.write_bytes(content.encode() if isinstance(content, str) else content)
    for path, target in (symlinks or {}).items():
        host = root / path.lstrip("/")
        host.parent.mkdir(parents=True, exist_ok=True)
        host.symlink_to(target)
    for path, mode in (modes or {}).items():
        os.chmod(root / path.lstrip("/"), mode)
    return root


@pytest.fixture
def make_tree(tmp_path: Path) -> BuildTree:
    """make_tree(files, symlinks=..., modes=..., name='rootfs') -> directory holding the tree."""

    def build(
        files: Mapping[str, bytes | str],
        *,
        name: str = "rootfs",
        symlinks: Mapping[str, str] | None = None,
        modes: Mapping[str, int] | None = None,
        dirs: tuple[str, ...] = (),
    ) -> Path:
        return write_tree(tmp_path / name, files, symlinks=symlinks, modes=modes, dirs=dirs)

    return build


@pytest.fixture
def make_squashfs(tmp_path: Path) -> BuildImage:
    """make_squashfs(files, symlinks=..., modes=..., name='fw.sqsh') -> a squashfs image built by mksquashfs."""
    mksquashfs = require_tool("mksquashfs")

    def build(
        files: Mapping[str, bytes | str],
        *,
        name: str = "fw.sqsh",
        comp: str = "gzip",
        symlinks: Mapping[str, str] | None = None,
        modes: Mapping[str, int] | None = None,
        dirs: tuple[str, ...] = (),
    ) -> Path:
        root = write_tree(tmp_path / f"{name}.root", files, symlinks=symlinks, modes=modes, dirs=dirs)
        image = tmp_path / name
        subprocess.run(
            [mksquashfs, str(root), str(image), "-noappend", "-all-root", "-comp", comp, "-quiet"],
            check=True,
            capture_output=True,
        )
        return image

    return build


def assay_command() -> list[str]:
    """The installed console script next to this interpreter, as a user would call it."""
    script = Path(sys.executable).parent / "assay"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from assay.cli import main; main()"]


@pytest.fixture
def run_assay(tmp_path: Path) -> RunAssay:
    """run_assay(*args) -> CompletedProcess with text stdout/stderr; never raises on exit codes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    # Keep the user's vulnerability DB and data out of the tests.
    env["ASSAY_DATA_DIR"] = str(tmp_path / "assay-data")
    env["COLUMNS"] = "200"

    def run(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*assay_command(), *map(str, args)],
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            cwd=tmp_path,
        )

    return run


RunInProcess = Callable[..., tuple[int, str, str]]


@pytest.fixture
def assay_in_process(capsys: pytest.CaptureFixture[str]) -> RunInProcess:
    """assay_in_process(*args) -> (exit code, stdout, stderr) of the CLI run in this process (no start-up)."""
    from cli_in_process import run_cli

    return lambda *args: run_cli(capsys, *args)
