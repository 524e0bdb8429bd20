"""Run checks over one scan's index: in turn, or side by side in forked worker processes.

Checks are pure functions of the index, so they can run in any order and in any process. A check
that declares `split` also has its work cut into parts (e.g. one per distinct binary), so that one
heavy check does not leave the other workers idle. Workers are forked from the scanning process:
they inherit the index without copying it, and only check ids, part paths and findings cross
between processes.

The inventory stage may run among them, as one more task: it reads only the index too, and a
worker that builds it leaves the other workers to the checks. Checks that read its components
declare it (Check.needs_components) and start once it is done.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from assay.checks.base import Check, CheckContext
from assay.model import Component, Finding

# (check id or INVENTORY, part paths or None for the whole check, the components for a check
# that needs them)
_Task = tuple[str, frozenset[str] | None, tuple[Component, ...] | None]
# (check id or INVENTORY, findings or components, seconds, error or None)
_Outcome = tuple[str, list[Any], float, str | None]
Inventory = Callable[[], Iterable[Component]]

INVENTORY = "inventory"  # the task id of the inventory stage; no check has this id


class _NotYet(tuple[Component, ...]):
    """ctx.components as a check that has not declared needs_components sees it: reading it
    fails, in every run, rather than reading nothing in a run where the inventory is not done."""

    __slots__ = ()

    def _fail(self, *_args: object) -> Any:
        raise RuntimeError("this check reads ctx.components without declaring needs_components")

    __iter__ = __len__ = __getitem__ = __contains__ = _fail


NOT_YET = _NotYet()

# Estimated seconds below which parts of a split check are handed out together.
_MIN_TASK_SECONDS = 0.02

# Set once in each forked worker by _init_worker: the scan it serves. A worker serves one scan.
_WORKER: dict[str, object] = {}


@dataclass
class CheckRun:
    findings: list[Finding]
    timings: dict[str, float]  # seconds each check ran, summed over its parts and workers
    errors: dict[str, str]
    jobs: int = 1  # processes the checks ran in
    components: tuple[Component, ...] = field(default=())  # the inventory's, or ctx.components
    inventory_seconds: float = 0.0  # how long the inventory ran, when run_checks ran it


def default_jobs() -> int:
    """Worker processes for one scan: one per CPU, at most four (the checks seldom keep more busy)."""
    return max(1, min(4, os.cpu_count() or 1))


def run_checks(
    ctx: CheckContext,
    checks: Iterable[Check],
    progress: Callable[[str], None] | None = None,
    jobs: int = 1,
    inventory: Inventory | None = None,
) -> CheckRun:
    """Run the checks; one failing check is reported, not fatal to the scan.

    jobs > 1 runs them in that many forked processes where the platform can fork and this process
    may have children; otherwise, and if the pool breaks, in this process. Findings are the same
    either way, in the same order.

    inventory: the inventory stage when it has not run yet (ctx.components is then ignored). It
    runs first in turn, or as a task beside the checks; its errors propagate as they would from
    the stage run alone. CheckRun.components is its result.
    """
    checks = list(checks)
    by_id = {c.id: c for c in checks}
    outcomes: list[_Outcome] = []
    first: list[_Task] = [(INVENTORY, None, None)] if inventory is not None else []
    left: list[_Task] = first + [(c.id, None, None) for c in checks]
    used = 1
    if jobs > 1 and _can_fork():
        planned = first + _plan(ctx, checks)
        if min(jobs, len(planned)) > 1:
            used = min(jobs, len(planned))
            outcomes, left = _run_pooled(ctx, by_id, inventory, planned, used, progress)
    components: tuple[Component, ...] = ctx.components
    inventory_seconds = 0.0
    for name, result, seconds, _error in outcomes:
        if name == INVENTORY:
            components, inventory_seconds = tuple(result), seconds
    # In turn, or what a broken pool left undone; the inventory first.
    for task in sorted(left, key=lambda t: t[0] != INVENTORY):
        if progress is not None:
            progress(task[0])
        if task[0] == INVENTORY and inventory is not None:
            _name, result, inventory_seconds, _error = _run_inventory(inventory)
            components = tuple(result)
            continue
        outcomes.append(_run_task(ctx, by_id, (task[0], task[1], components)))
    run = _collect(checks, [o for o in outcomes if o[0] != INVENTORY], used)
    run.components, run.inventory_seconds = components, inventory_seconds
    return run


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


def _plan(ctx: CheckContext, checks: list[Check]) -> list[_Task]:
    """Whole checks first, then the parts of split checks, heaviest first, so that the queue
    ends with small parts and no worker is left with a long tail."""
    whole: list[_Task] = []
    parts: list[tuple[float, _Task]] = []
    for check in checks:
        if check.split is None:
            whole.append((check.id, None, None))
            continue
        try:
            cut = check.split(ctx)
        except Exception:  # noqa: BLE001 - a check that cannot split still runs whole
            whole.append((check.id, None, None))
            continue
        parts.extend((weight, (check.id, keys, None)) for weight, keys in _bundled(cut))
    parts.sort(key=lambda p: -p[0])
    return whole + [task for _w, task in parts]


def _bundled(parts: list[tuple[float, frozenset[str]]]) -> list[tuple[float, frozenset[str]]]:
    """Light parts of one check go together, up to _MIN_TASK_SECONDS a task: each task costs a
    round trip to a worker, about a millisecond."""
    out = [p for p in parts if p[0] >= _MIN_TASK_SECONDS]
    weight, keys = 0.0, frozenset[str]()
    for w, part in parts:
        if w >= _MIN_TASK_SECONDS:
            continue
        weight, keys = weight + w, keys | part
        if weight >= _MIN_TASK_SECONDS:
            out.append((weight, keys))
            weight, keys = 0.0, frozenset()
    if keys:
        out.append((weight, keys))
    return out


def _run_pooled(
    ctx: CheckContext,
    by_id: dict[str, Check],
    inventory: Inventory | None,
    tasks: list[_Task],
    jobs: int,
    progress: Callable[[str], None] | None,
) -> tuple[list[_Outcome], list[_Task]]:
    """Outcomes of the tasks, and the tasks the pool could not run."""
    outcomes: list[_Outcome] = []
    # Checks that read the components wait for the inventory task.
    held: list[_Task] = []
    if inventory is not None:
        held = [t for t in tasks if t[0] != INVENTORY and by_id[t[0]].needs_components]
        tasks = [t for t in tasks if t[0] == INVENTORY or not by_id[t[0]].needs_components]
    parts_left = Counter(t[0] for t in tasks)
    # Workers share this process's pages copy-on-write; a collection in a worker would write to
    # every inherited object and copy them all. Frozen objects are left out of collections.
    gc.freeze()
    try:
        pool = ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_init_worker,
            initargs=(ctx, by_id, inventory),
        )
    except (OSError, ValueError):
        gc.unfreeze()
        return outcomes, tasks + held
    pending: dict[Future[_Outcome], _Task] = {}
    queue = deque(tasks)
    lost: list[_Task] = []
    try:
        while queue or pending:
            # Hand out a task at a time (one spare in the queue), not all at once: a worker that
            # holds tasks it has not started keeps them from a worker that has gone idle.
            with _sigint_held():  # the first submit forks the workers
                while queue and not lost and len(pending) <= jobs:
                    task = queue.popleft()
                    pending[pool.submit(_worker_task, task)] = task
            if not pending:
                break
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                task = pending.pop(fut)
                try:
                    outcome = fut.result()
                except (BrokenProcessPool, pickle.PicklingError, AttributeError, TypeError):
                    lost.append(task)  # a lost worker or a result that would not cross: rerun here
                    continue
                if task[0] == INVENTORY:
                    if outcome[3] is not None:
                        lost.append(task)  # rerun here, where its error propagates
                        continue
                    components = tuple(outcome[1])
                    queue.extendleft((cid, part, components) for cid, part, _c in reversed(held))
                    held = []
                outcomes.append(outcome)
                parts_left[task[0]] -= 1
                if progress is not None and not parts_left[task[0]]:
                    progress(task[0])
    except BaseException:
        _kill(pool)
        gc.unfreeze()
        raise
    # Every result is in: the idle workers exit by themselves while the scan goes on.
    pool.shutdown(wait=False)
    gc.unfreeze()
    return outcomes, lost + list(queue) + held


@contextmanager
def _sigint_held() -> Iterator[None]:
    """Hold Ctrl-C until the block ends. One that lands while the process forks runs Python's
    handler inside an at-fork hook, which drops its KeyboardInterrupt ("Exception ignored"): the
    scan would then wait for its workers. Held, it is raised after the block. Forked children
    inherit the hold; _init_worker releases it."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread runs Python's signal handlers
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _kill(pool: ProcessPoolExecutor) -> None:
    # Workers ignore SIGINT (the parent decides); on Ctrl-C or an error do not wait for their tasks.
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    for proc in processes:
        proc.join(timeout=5)


def _init_worker(ctx: CheckContext, by_id: dict[str, Check], inventory: Inventory | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # discards a Ctrl-C held across the fork
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    # Each worker starts from what this process had memoised (split may have parsed what the
    # parts need) and keeps its own additions: nothing is shared back.
    _WORKER["ctx"] = replace(ctx, memo=dict(ctx.memo), processes=1)
    _WORKER["checks"] = by_id
    _WORKER["inventory"] = inventory


def _worker_task(task: _Task) -> _Outcome:
    ctx = _WORKER["ctx"]
    by_id = _WORKER["checks"]
    assert isinstance(ctx, CheckContext) and isinstance(by_id, dict)
    if task[0] == INVENTORY:
        inventory = _WORKER["inventory"]
        assert callable(inventory)
        try:
            return _run_inventory(inventory)
        except Exception as exc:  # noqa: BLE001 - rerun by the scanning process, which raises
            return INVENTORY, [], 0.0, f"{type(exc).__name__}: {exc}"
    return _run_task(ctx, by_id, task)


def _run_inventory(inventory: Inventory) -> _Outcome:
    t0 = time.perf_counter()
    components = list(inventory())
    return INVENTORY, components, time.perf_counter() - t0, None


def _run_task(ctx: CheckContext, by_id: dict[str, Check], task: _Task) -> _Outcome:
    check_id, paths, components = task
    check = by_id[check_id]
    if components is None:
        components = ctx.components
    ctx = replace(ctx, part=paths, components=components if check.needs_components else NOT_YET)
    t0 = time.perf_counter()
    findings: list[Finding] = []
    error = None
    try:
        findings = list(check.run(ctx))
    except Exception as exc:  # noqa: BLE001 - a broken check must not sink the report
        error = f"{type(exc).__name__}: {exc}"
    return check_id, findings, time.perf_counter() - t0, error


def _collect(checks: list[Check], outcomes: list[_Outcome], jobs: int) -> CheckRun:
    findings: list[Finding] = []
    timings = {c.id: 0.0 for c in checks}
    errors: dict[str, str] = {}
    seen: set[str] = set()
    # In check order, so that of two findings with one id the one a serial run keeps is kept;
    # the sort below then fixes the order whatever order the parts came back in.
    order = {c.id: i for i, c in enumerate(checks)}
    for check_id, found, seconds, error in sorted(outcomes, key=lambda o: order[o[0]]):
        timings[check_id] += seconds
        if error is not None:
            errors.setdefault(check_id, error)
        for f in found:
            if f.id not in seen:
                seen.add(f.id)
                findings.append(f)
    findings.sort(key=lambda f: (-f.severity.rank, f.category, f.path, f.rule, f.id))
    return CheckRun(findings, timings, errors, jobs)
