"""Scan one image in a killable subprocess. Used by the service's workers, the local pool of
scan-corpus, and Dask tasks alike, so a hanging extractor fails one image and nothing else."""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assay.pipeline import sha256_file

DEFAULT_TIMEOUT = 600.0
PROGRESS_MARK = "@assay-progress "  # lines of the child's stdout that carry its stage


class ScanFailed(Exception):
    """The scan of one image did not produce a report (error, crash, timeout, stop)."""


def scan_in_subprocess(
    image: Path,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Callable[[str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    cache: str | None = None,
) -> dict[str, Any]:
    """The report dict of IMAGE, or ScanFailed. progress gets stage names; should_stop is polled
    about once a second and kills the scan when it returns True; cache: the result cache file."""
    with tempfile.TemporaryDirectory(prefix="assay-job-") as tmp:
        out = Path(tmp) / "report.json"
        env = dict(os.environ, TMPDIR=tmp, PYTHONUNBUFFERED="1")
        proc = subprocess.Popen(
            [sys.executable, "-m", "assay.corpus.child", str(image), str(out), *([cache] if cache else [])],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=tmp,
            start_new_session=True,  # own process group: kill reaches unsquashfs & co. too
        )
        deadline = time.monotonic() + timeout
        stderr_tail: list[str] = []
        try:
            _pump(proc, deadline, progress, should_stop, stderr_tail)
        except ScanFailed as exc:
            _kill(proc)
            if str(exc) == "timed out":
                raise ScanFailed(f"timed out after {timeout:g} s") from None
            raise
        except BaseException:
            _kill(proc)
            raise
        if proc.returncode < 0:
            # Killed by a signal (a crashing native extractor, the OOM killer): stderr is noise.
            raise ScanFailed(f"scanner crashed: {_signal_name(-proc.returncode)}")
        if proc.returncode != 0:
            msg = stderr_tail[-1] if stderr_tail else f"scanner exited with code {proc.returncode}"
            raise ScanFailed(msg)
        try:
            data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ScanFailed(f"scanner wrote no readable report: {exc}") from None
        return data


def _pump(
    proc: subprocess.Popen[bytes],
    deadline: float,
    progress: Callable[[str], None] | None,
    should_stop: Callable[[], bool] | None,
    stderr_tail: list[str],
) -> None:
    assert proc.stdout is not None and proc.stderr is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, "out")
    sel.register(proc.stderr, selectors.EVENT_READ, "err")
    buffers = {"out": b"", "err": b""}
    open_streams = 2
    while open_streams:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ScanFailed("timed out")
        if should_stop is not None and should_stop():
            raise ScanFailed("stopped")
        for key, _ in sel.select(timeout=min(1.0, remaining)):
            chunk = os.read(key.fileobj.fileno(), 65536)  # type: ignore[union-attr]
            if not chunk:
                sel.unregister(key.fileobj)
                open_streams -= 1
                continue
            buffers[key.data] += chunk
            *lines, buffers[key.data] = buffers[key.data].split(b"\n")
            for raw in lines:
                line = raw.decode("utf-8", errors="replace").strip()
                if key.data == "out" and line.startswith(PROGRESS_MARK.strip()):
                    if progress is not None:
                        progress(line[len(PROGRESS_MARK) :])
                elif key.data == "err" and line:
                    stderr_tail.append(line)
                    del stderr_tail[:-20]
    sel.close()
    if buffers["err"].strip():
        stderr_tail.append(buffers["err"].decode("utf-8", errors="replace").strip())
    try:
        proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        raise ScanFailed("timed out") from None


def _signal_name(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def scan_one(
    path: str,
    timeout: float = DEFAULT_TIMEOUT,
    should_stop: Callable[[], bool] | None = None,
    cache: str | None = None,
) -> dict[str, Any]:
    """One image of a corpus run, as plain data (the Dask task; top level so it pickles by name).
    Never raises for a bad image: the failure is part of the result. cache: the result cache file
    (on a Dask worker, that path on the worker's host)."""
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    image = Path(path)
    result: dict[str, Any] = {
        "path": path,
        "name": image.name,
        "started_at": started.isoformat(),
        "host": socket.gethostname(),
        "report": None,
        "error": None,
    }
    try:
        result["sha256"] = sha256_file(image)
        result["size"] = image.stat().st_size
    except OSError as exc:
        result["error"] = f"cannot read {path}: {exc.strerror or exc}"
        result["seconds"] = time.perf_counter() - t0
        return result
    try:
        result["report"] = scan_in_subprocess(image, timeout, should_stop=should_stop, cache=cache)
    except ScanFailed as exc:
        result["error"] = str(exc)
    result["seconds"] = time.perf_counter() - t0
    return result
