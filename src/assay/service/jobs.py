"""The scan queue: uploads become queued scans in the database; worker processes claim them,
scan in a killable subprocess, heartbeat, and store the result. Crash recovery re-queues (or
fails, after max_attempts) any scan whose worker stopped heartbeating."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import secrets
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from pathlib import Path

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from assay.corpus.runner import ScanFailed, scan_in_subprocess
from assay.errors import DatabaseError
from assay.service.settings import Settings
from assay.service.uploads import EmptyUpload, UploadTooLarge, display_name, save_upload
from assay.store import Image, Recovered, Store


async def enqueue_upload(
    request: Request,
    upload: UploadFile,
    *,
    vendor: str | None,
    model: str | None,
    user_id: int,
) -> int:
    settings: Settings = request.app.state.settings
    store: Store = request.app.state.store
    try:
        stored = await save_upload(upload, settings.images_dir, settings.uploads_dir, settings.max_upload)
    except UploadTooLarge as exc:
        raise HTTPException(413, str(exc)) from None
    except EmptyUpload as exc:
        raise HTTPException(400, str(exc)) from None

    def record() -> int:
        image_id = store.add_image(
            stored.sha256,
            display_name(upload.filename),
            stored.size,
            vendor=_meta(vendor),
            model=_meta(model),
        )
        return store.create_scan(image_id, source="upload", user_id=user_id)

    return await run_in_threadpool(record)


def _meta(value: str | None) -> str | None:
    if not value:
        return None
    cleaned = "".join(c for c in value if c.isprintable()).strip()[:255]
    return cleaned or None


def image_path(settings: Settings, image: Image) -> Path:
    # The sha256 comes from our own hashing, never from a request, so this stays inside images_dir.
    return Path(image.location) if image.location else settings.images_dir / image.sha256


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def dead_local_worker(wid: str) -> bool:
    """A worker of this host whose process is gone: no need to wait for its heartbeat to age."""
    host, _, rest = wid.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def recover(store: Store, settings: Settings, *, at_start: bool = False) -> list[Recovered]:
    return store.recover(
        stale_after=settings.stale_after,
        max_attempts=settings.max_attempts,
        is_dead=dead_local_worker if at_start else None,
    )


def process_next(store: Store, settings: Settings, wid: str, stop: threading.Event | None = None) -> bool:
    """Claim and run one queued scan; False when the queue was empty."""
    scan = store.claim_scan(wid)
    if scan is None:
        return False
    stop = stop or threading.Event()
    parent = os.getppid()
    state = {"last": time.monotonic(), "lost": False}

    def beat(stage: str | None) -> None:
        state["last"] = time.monotonic()
        if not store.heartbeat(scan.id, wid, stage):
            state["lost"] = True

    def progress(stage: str) -> None:
        if time.monotonic() - float(state["last"]) >= 0.5:
            beat(stage)

    def should_stop() -> bool:
        if stop.is_set() or os.getppid() != parent:
            return True
        if time.monotonic() - float(state["last"]) >= settings.heartbeat:
            beat(None)
        return bool(state["lost"])

    path = image_path(settings, scan.image)
    try:
        if not path.is_file():
            raise ScanFailed(f"image file missing from the data dir: {scan.image.sha256}")
        report = scan_in_subprocess(
            path, settings.scan_timeout, progress, should_stop, cache=str(settings.result_cache)
        )
    except ScanFailed as exc:
        if state["lost"]:
            return True  # someone else owns the scan now
        if stop.is_set() or os.getppid() != parent:
            store.requeue(scan.id, wid)
            return True
        store.fail_scan(scan.id, str(exc), worker_id=wid)
        return True
    # Reports name the image by its stored file (the sha256); show the uploaded name instead.
    report.setdefault("image", {})["name"] = scan.image.name
    store.finish_scan(scan.id, report, worker_id=wid)
    return True


def worker_main(settings: Settings, parent_pid: int) -> None:
    """Entry point of one worker process."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    store = Store(settings.database_url, run_migrations=False)
    wid = worker_id()
    next_recovery = 0.0
    while not stop.is_set() and os.getppid() == parent_pid:
        try:
            if time.monotonic() >= next_recovery:
                recover(store, settings)
                next_recovery = time.monotonic() + max(1.0, settings.stale_after / 3)
            if not process_next(store, settings, wid, stop):
                stop.wait(settings.poll)
        except DatabaseError:
            stop.wait(2.0)  # the database is away; keep trying rather than dying
    store.close()


class WorkerPool:
    """N worker processes beside the web server; stopped (scans handed back) with it."""

    def __init__(self, settings: Settings, count: int) -> None:
        self.settings = settings
        self.count = count
        self.procs: list[BaseProcess] = []

    def start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        for _ in range(self.count):
            proc = ctx.Process(target=worker_main, args=(self.settings, os.getpid()), daemon=False)
            proc.start()
            self.procs.append(proc)

    def stop(self, timeout: float = 15.0) -> None:
        for proc in self.procs:
            if proc.is_alive() and proc.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.procs:
            proc.join(max(0.1, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join(2)
        self.procs.clear()
