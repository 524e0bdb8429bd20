"""scan-corpus: scan many images, skip what the database already has, record every outcome."""

from __future__ import annotations

import fnmatch
import os
import socket
import threading
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assay.corpus.runner import DEFAULT_TIMEOUT, scan_one
from assay.errors import InputError
from assay.pipeline import sha256_file
from assay.store import Store

# Files beside images in a corpus folder that are never firmware.
_NOT_IMAGES = {".json", ".md", ".txt", ".py", ".csv", ".html", ".sha256", ".sig", ".asc", ".log"}


@dataclass
class CorpusItem:
    path: Path
    sha256: str = ""
    size: int = 0
    status: str = "pending"  # pending | skipped | done | failed
    scan_id: int | None = None
    seconds: float = 0.0
    error: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "size": self.size,
            "status": self.status,
            "scan_id": self.scan_id,
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "findings": self.summary.get("findings"),
            "by_severity": self.summary.get("by_severity"),
        }


def collect_images(source: Path, pattern: str = "*") -> list[Path]:
    """A directory (searched recursively) or a list file with one path a line (relative paths
    are taken from the list's folder; blank lines and '#' comments are ignored)."""
    if source.is_dir():
        found = [
            p
            for p in sorted(source.rglob("*"))
            if p.is_file()
            and not p.is_symlink()
            and not any(part.startswith(".") for part in p.relative_to(source).parts)
            and p.suffix.lower() not in _NOT_IMAGES
            and fnmatch.fnmatch(p.name, pattern)
        ]
    elif source.is_file():
        found = []
        for raw in source.read_text(encoding="utf-8", errors="replace").splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            p = Path(line)
            found.append(p if p.is_absolute() else source.parent / p)
    else:
        raise InputError(f"{source}: no such directory or list file")
    if not found:
        raise InputError(f"{source}: no images found")
    return [p.resolve() for p in found]


def plan(store: Store, images: Iterable[Path], *, rescan: bool = False) -> list[CorpusItem]:
    """Hash each image; mark as skipped those with a finished scan, and duplicates."""
    items: list[CorpusItem] = []
    seen: set[str] = set()
    for path in images:
        item = CorpusItem(path)
        try:
            item.sha256 = sha256_file(path)
            item.size = path.stat().st_size
        except OSError as exc:
            item.status, item.error = "failed", f"cannot read: {exc.strerror or exc}"
            items.append(item)
            continue
        if item.sha256 in seen:
            item.status, item.error = "skipped", "duplicate of another image in this run"
        elif not rescan and (done := store.done_scan_for(item.sha256)) is not None:
            item.status, item.scan_id, item.summary = "skipped", done.id, dict(done.summary or {})
        seen.add(item.sha256)
        items.append(item)
    return items


def connect_dask(address: str, timeout: float = 10.0) -> Any:
    """A distributed.Client, or InputError with one line saying why not."""
    host, sep, port = address.removeprefix("tcp://").rpartition(":")
    if sep and port.isdigit():
        # A quick probe: the client would retry a refused connection until its timeout.
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
        except OSError as exc:
            raise InputError(f"cannot reach the Dask scheduler at {address}: {exc.strerror or exc}") from None
    from distributed import Client

    try:
        return Client(address, timeout=f"{timeout}s")
    except (OSError, TimeoutError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {address}: {exc}") from None


def run(
    store: Store,
    items: list[CorpusItem],
    *,
    workers: int = 2,
    timeout: float = DEFAULT_TIMEOUT,
    dask: Any = None,
    on_result: Callable[[CorpusItem], None] | None = None,
    cache: str | None = None,
) -> list[CorpusItem]:
    """Scan the pending items and record each result as it arrives (so an interrupted run keeps
    what it finished and the next run skips it). dask: a scheduler address or a connected Client;
    cache: the result cache file the scans share (see checks.cache), None for none."""
    pending = [i for i in items if i.status == "pending"]
    by_path = {str(i.path): i for i in pending}
    results = (
        _dask_results(dask, pending, timeout, cache)
        if dask is not None
        else _local_results(pending, workers, timeout, cache)
    )
    try:
        for result in results:
            item = by_path[result["path"]]
            _record(store, item, result, "local" if dask is None else "dask")
            if on_result is not None:
                on_result(item)
    finally:
        # An interrupt that lands here rather than inside the generator must still stop the
        # running scans now: a traceback keeps the generator alive, and the pool's exit hook
        # would otherwise wait for every scan to end.
        results.close()
    return items


def _record(store: Store, item: CorpusItem, result: dict[str, Any], runner: str) -> None:
    item.seconds = float(result.get("seconds") or 0.0)
    report = result.get("report")
    image_id = store.add_image(item.sha256, item.path.name, item.size, location=str(item.path))
    item.scan_id = store.record_result(
        image_id,
        report=report,
        error=result.get("error"),
        started_at=datetime.fromisoformat(result["started_at"])
        if result.get("started_at")
        else datetime.now(UTC),
        worker_id=f"{runner}:{result.get('host', '?')}"[:128],
    )
    if report is not None:
        item.status, item.summary = "done", dict(report.get("summary") or {})
    else:
        item.status, item.error = "failed", str(result.get("error") or "scan failed")


def _local_results(
    items: list[CorpusItem], workers: int, timeout: float, cache: str | None
) -> Generator[dict[str, Any], None, None]:
    # Threads only wait: each scan runs in its own killable subprocess (see runner).
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures: list[Future[dict[str, Any]]] = [
            pool.submit(scan_one, str(i.path), timeout, stop.is_set, cache) for i in items
        ]
        try:
            for fut in as_completed(futures):
                yield fut.result()
        finally:
            # Interrupted (Ctrl-C, a failed store write): kill running scans instead of waiting.
            stop.set()
            for fut in futures:
                fut.cancel()


def _dask_results(
    dask: Any, items: list[CorpusItem], timeout: float, cache: str | None
) -> Generator[dict[str, Any], None, None]:
    """Each task scans one image by path, so the images must be readable at the same path on
    every worker (a shared or copied corpus folder)."""
    from distributed import as_completed as dask_completed

    client = connect_dask(dask) if isinstance(dask, str) else dask
    try:
        futures = {
            client.submit(
                scan_one,
                str(i.path),
                timeout,
                None,
                cache,
                pure=False,
                key=f"assay-scan-{i.sha256[:16]}-{os.getpid()}",
            ): i.path
            for i in items
        }
        for fut in dask_completed(list(futures)):
            try:
                yield fut.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker fails that image, not the run
                yield {
                    "path": str(futures[fut]),
                    "error": f"dask task failed: {type(exc).__name__}: {exc}",
                    "host": "?",
                }
    finally:
        if isinstance(dask, str):
            client.close()
