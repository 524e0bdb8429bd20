"""scan-corpus on a local process pool and on a real Dask cluster (a scheduler and two workers as
separate processes) must give the same results; hanging and crashing extractors fail their
image alone; an interrupted run resumes by digest."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import free_port, router_image

from assay.corpus import ScanFailed, collect_images, scan_in_subprocess
from assay.store import Store

BIN = Path(sys.executable).parent
TIMEOUT = (
    30  # per image: a fixture scan takes 2-8 s, unblob on the junk blob up to 20 s, on a busy 2-core machine
)
# What the hanging extractor runs, unique to this test process (xdist runs tests side by side):
# looked for afterwards, and never left behind.
HANG = f"sleep {3000 + os.getpid() % 1000}.{secrets.randbelow(10**6):06d}"


@pytest.fixture(scope="module")
def tool_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """PATH with an unsquashfs that hangs on images carrying one marker and crashes the scanner
    (SIGSEGV to its parent, as a faulting native extractor would) on another; otherwise the
    real one. Markers sit in bytes appended after the filesystem."""
    real = shutil.which("unsquashfs") or shutil.which("unsquashfs", path="/usr/sbin:/sbin")
    assert real, "squashfs-tools is not installed"
    d = tmp_path_factory.mktemp("tools")
    wrapper = d / "unsquashfs"
    wrapper.write_text(
        "#!/bin/sh\n"
        "for img; do :; done\n"
        f'if grep -q ASSAY-TEST-HANG "$img" 2>/dev/null; then exec {HANG}; fi\n'
        'if grep -q ASSAY-TEST-CRASH "$img" 2>/dev/null; then kill -SEGV $PPID; exit 1; fi\n'
        f'exec {real} "$@"\n'
    )
    wrapper.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env["PATH"] = f"{d}:{env.get('PATH', '/usr/bin:/bin')}"
    env["COLUMNS"] = "200"
    return env


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("corpus")
    router_image(d / "one" / "image.bin", marker="one")
    router_image(d / "two" / "image.bin", marker="two", telnet=False, packages={"busybox": "1.31.1-1"})
    (d / "other").mkdir()  # sorts after one/: the copy is the duplicate
    shutil.copy(d / "one" / "image.bin", d / "other" / "one-again.bin")  # same digest: skipped
    # The bad ones sort last, so a run meets the good images first.
    for kind in ("hang", "crash"):
        img = router_image(d / f"x-{kind}" / "image.bin", marker=kind)
        with img.open("ab") as fh:
            fh.write(f"ASSAY-TEST-{kind.upper()}".encode())
    (d / "x-junk.bin").write_bytes(b"not firmware at all " * 50)  # unsupported: fails alone
    (d / "one" / "truth.json").write_text("{}")  # not an image: never scanned
    return d


@pytest.fixture(scope="module")
def dask_cluster(tool_env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    commands = [["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"]] + [
        ["worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"]
    ] * 2
    procs = [
        subprocess.Popen(
            [str(BIN / "dask"), *cmd],
            env=tool_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for cmd in commands
    ]
    try:
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
            assert len(client.scheduler_info()["workers"]) == 2
        yield address
    finally:
        # Nothing to save in a test cluster: SIGKILL, no graceful drain (that takes 10-20 s).
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def assay(args: list[str], env: dict[str, str], db: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN / "assay"), *args],
        env=dict(env, ASSAY_DATABASE_URL=db),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
        # A test run started in the background inherits SIGINT ignored; the Ctrl-C test needs it live.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )


def finish(proc: subprocess.Popen[str], timeout: float = 180) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def latest_results(db: str) -> dict[str, Any]:
    """Per image digest, its newest scan: status, error, and the whole report without timings."""
    store = Store(db)
    out: dict[str, Any] = {}
    for scan in reversed(store.list_scans(limit=1000)):
        report = store.report(scan.id)
        if report is not None:
            report.pop("stats", None)
        out[scan.image.sha256] = {"status": scan.status, "error": scan.error, "report": report}
    store.close()
    return out


def leftover_scans(corpus: Path) -> list[str]:
    ps = subprocess.run(["ps", "-eo", "args="], capture_output=True, text=True, check=True).stdout
    return [
        line for line in ps.splitlines() if line.strip() == HANG or f"assay.corpus.child {corpus}" in line
    ]


def wait_until(cond: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_collect_images(corpus: Path, tmp_path: Path) -> None:
    found = collect_images(corpus)
    assert [p.relative_to(corpus).as_posix() for p in found] == [
        "one/image.bin",
        "other/one-again.bin",
        "two/image.bin",
        "x-crash/image.bin",
        "x-hang/image.bin",
        "x-junk.bin",
    ]
    listing = tmp_path / "list.txt"
    listing.write_text(f"# images\n{corpus / 'x-junk.bin'}\n\none/image.bin\n")
    (tmp_path / "one").symlink_to(corpus / "one")
    assert [p.relative_to(corpus).as_posix() for p in collect_images(listing)] == [
        "x-junk.bin",
        "one/image.bin",
    ]
    assert [p.parent.name for p in collect_images(corpus, "image.*")] == ["one", "two", "x-crash", "x-hang"]


def test_local_pool_and_dask_agree(
    corpus: Path, tmp_path: Path, tool_env: dict[str, str], dask_cluster: str
) -> None:
    local_db = f"sqlite:///{tmp_path / 'local.db'}"
    dask_db = f"sqlite:///{tmp_path / 'dask.db'}"
    args = ["scan-corpus", str(corpus), "--timeout", str(TIMEOUT)]

    # Local pool, interrupted (Ctrl-C) once something is recorded: running scans are killed.
    first = assay([*args, "--workers", "2"], tool_env, local_db)
    wait_until(lambda: os.path.exists(tmp_path / "local.db") and _done(local_db) >= 1, 120, "a first scan")
    first.send_signal(signal.SIGINT)
    # Generous for a cold, loaded machine; what matters is that no running scan was waited for.
    rc, _, err = finish(first, timeout=60)
    assert rc == 130 and "interrupted: " in err and "run again to resume" in err, err
    assert "timed out" not in err
    assert not any("timed out" in str(r.get("error")) for r in latest_results(local_db).values())
    wait_until(lambda: not leftover_scans(corpus), 15, "the interrupted scans to be killed")
    kept = _done(local_db)
    assert 1 <= kept <= 2

    # Resumed: what the first run finished is skipped by digest, the rest is scanned; the Dask
    # run goes alongside.
    on_dask = assay([*args, "--dask", dask_cluster, "--json"], tool_env, dask_db)
    rc, out, err = finish(assay([*args, "--workers", "2"], tool_env, local_db))
    assert rc == 0, err
    assert "Traceback" not in err
    assert f"{kept + 1} of 6 images skipped" in err  # the copy of one/ is skipped too
    lines = [line for line in err.splitlines() if re.match(r"\[\d/\d\] ", line)]
    assert len(lines) == 5 - kept  # one progress line per scanned image
    assert f"x-hang/image.bin failed ({TIMEOUT}." in err and f"timed out after {TIMEOUT} s" in err
    table = out.replace("│", " ")
    assert "scan-corpus" in out and "one/image.bin" in table and "other/one-again.bin" in table
    assert "duplicate of another image" in table
    assert f"{2 - kept} scanned, {kept + 1} skipped, 3 failed" in out

    rc, out, err = finish(on_dask)
    assert rc == 0, err
    items = {Path(i["path"]).relative_to(corpus).as_posix(): i for i in json.loads(out)}
    assert {k: v["status"] for k, v in items.items()} == {
        "one/image.bin": "done",
        "two/image.bin": "done",
        "other/one-again.bin": "skipped",
        "x-hang/image.bin": "failed",
        "x-crash/image.bin": "failed",
        "x-junk.bin": "failed",
    }
    assert items["x-hang/image.bin"]["error"] == f"timed out after {TIMEOUT} s"
    assert items["x-crash/image.bin"]["error"] == "scanner crashed: SIGSEGV"
    assert "unsupported" in items["x-junk.bin"]["error"]
    assert items["one/image.bin"]["by_severity"]["critical"] >= 2

    local, remote = latest_results(local_db), latest_results(dask_db)
    assert len(remote) == 5 and local == remote  # same statuses, errors and reports
    # Both runs keep per-file check results beside their databases, in one shared cache file.
    cache = tmp_path / "results-cache.sqlite"
    assert sqlite3.connect(cache).execute("SELECT count(*) FROM results").fetchone() is not None
    for db in (local_db, dask_db):
        store = Store(db)
        scan = next(s for s in store.list_scans(limit=10) if s.status == "done")
        assert (store.report(scan.id) or {})["stats"]["result_cache"] == str(cache)
        store.close()
    one = remote[items["one/image.bin"]["sha256"]]["report"]
    assert {"remote-shell", "default-credential"} <= {f["category"] for f in one["findings"]}
    assert {c["name"] for c in one["components"]} == {"busybox", "dropbear"}
    assert not leftover_scans(corpus)

    # Cross-image queries on the results (the store's own tests cover keys and hashes).
    rc, out, err = finish(assay(["query", "component", "busybox@1.31.1", "--json"], tool_env, dask_db))
    assert rc == 0, err
    assert sorted(r["image"] for r in json.loads(out)) == ["image.bin", "image.bin"]
    store = Store(local_db)
    assert [r["sha256"] for r in store.images_with_component("dropbear")] == [
        items["one/image.bin"]["sha256"]
    ]
    store.close()


def _done(db: str) -> int:
    store = Store(db)
    try:
        return store.count_scans("done")
    finally:
        store.close()


def test_unreachable_dask_scheduler_is_one_line_error(corpus: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    rc, _, err = finish(
        assay(
            ["scan-corpus", str(corpus / "one"), "--dask", f"tcp://127.0.0.1:{free_port()}"],
            env,
            f"sqlite:///{tmp_path / 'x.db'}",
        ),
        timeout=60,
    )
    assert rc == 3 and err.strip().startswith("assay: bad input: cannot reach the Dask scheduler"), err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_timeout_kills_the_scan_and_its_children(
    corpus: Path, tool_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", tool_env["PATH"])  # the scanner child inherits the hanging unsquashfs
    t0 = time.monotonic()
    with pytest.raises(ScanFailed, match="timed out after 2 s"):
        scan_in_subprocess(corpus / "x-hang" / "image.bin", timeout=2)
    assert time.monotonic() - t0 < 8
    assert not leftover_scans(corpus)


def test_scan_dies_with_its_runner(corpus: Path, tool_env: dict[str, str]) -> None:
    """A runner killed with SIGKILL cannot clean up; its scan notices and stops by itself."""
    code = (
        "import sys; from pathlib import Path; from assay.corpus import scan_in_subprocess;"
        "scan_in_subprocess(Path(sys.argv[1]), timeout=300)"
    )
    runner = subprocess.Popen(
        [sys.executable, "-c", code, str(corpus / "x-hang" / "image.bin")],
        env=tool_env,
        start_new_session=True,
    )
    try:
        wait_until(lambda: bool(leftover_scans(corpus)), 60, "the scan to start")
    finally:
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait()
    wait_until(lambda: not leftover_scans(corpus), 15, "the orphaned scan to stop")


def test_missing_source_is_bad_input(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    rc, _, err = finish(assay(["scan-corpus", str(tmp_path / "nope")], env, f"sqlite:///{tmp_path / 'x.db'}"))
    assert rc == 3 and "no such directory" in err


def test_result_cache_that_is_a_directory_is_bad_input(corpus: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    rc, out, err = finish(
        assay(["scan-corpus", str(corpus), "--cache", str(tmp_path)], env, f"sqlite:///{tmp_path / 'x.db'}")
    )
    assert rc == 3 and out == "" and "--cache" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
