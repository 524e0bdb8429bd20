"""Try known passwords against stored hashes, in parallel and within a time budget.

Verification uses the C crypt(3) of the C library (libxcrypt) for the crypt schemes. Measured on
this project's build host (2 shared cores), per try: md5crypt 0.14-0.44 ms, sha512crypt (5000
rounds) 4.2-6.6 ms with `crypt.crypt`; passlib 1.7.4 picks the same `os_crypt` backend and costs
the same plus parsing, while its pure-Python `builtin` backend is 3-5x slower (md5crypt 2.3 ms,
sha512crypt 14.9 ms). So `crypt` is used directly, and passlib where crypt is missing (Python
3.13 removed it) or for schemes crypt(3) lacks (apr1). The bcrypt package is not needed: passlib
and libxcrypt both verify $2a$/$2b$/$2y$.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass

from assay.analysis.accounts import Scheme

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import crypt as _crypt
    except ImportError:  # Python >= 3.13
        _crypt = None  # type: ignore[assignment]

_CRYPT_SCHEMES = {Scheme.DES, Scheme.MD5, Scheme.SHA256, Scheme.SHA512, Scheme.BCRYPT}
# Seconds per try at default cost, measured as above (upper end); scaled by rounds/cost.
_COST = {
    Scheme.DES: 0.0001,
    Scheme.MD5: 0.0005,
    Scheme.APR1: 0.0025,
    Scheme.SHA256: 0.006,
    Scheme.SHA512: 0.007,
    Scheme.BCRYPT: 0.2,  # cost 10
}
_FAST = 0.0002  # raw digests, htdigest, {SHA}
_CHUNK_SECONDS = 0.25  # a chunk's share of work: small enough to stop soon after the deadline
_INLINE_SECONDS = 0.5  # below this much total work a process pool costs more than it saves


@dataclass(frozen=True)
class Target:
    scheme: Scheme
    value: str
    user: str | None = None
    realm: str | None = None  # htdigest


@dataclass(frozen=True)
class Outcome:
    password: str | None
    tried: int
    candidates: int
    skipped: str | None = None  # why nothing was tried

    @property
    def complete(self) -> bool:
        return self.password is not None or (self.skipped is None and self.tried >= self.candidates)


def verify(target: Target, password: str) -> bool:
    """True when password produces target's stored value."""
    s, v = target.scheme, target.value
    pw = password.encode("utf-8", errors="surrogateescape")
    if s == Scheme.RAW_MD5:
        return hmac.compare_digest(hashlib.md5(pw).hexdigest(), v.lower())
    if s == Scheme.RAW_SHA1:
        return hmac.compare_digest(hashlib.sha1(pw).hexdigest(), v.lower())
    if s == Scheme.RAW_SHA256:
        return hmac.compare_digest(hashlib.sha256(pw).hexdigest(), v.lower())
    if s == Scheme.LDAP_SHA1:
        return hmac.compare_digest("{SHA}" + base64.b64encode(hashlib.sha1(pw).digest()).decode(), v)
    if s == Scheme.HTDIGEST:
        ha1 = hashlib.md5(f"{target.user}:{target.realm}:{password}".encode()).hexdigest()
        return hmac.compare_digest(ha1, v.lower())
    if s == Scheme.PLAINTEXT:
        return password == v
    if s in _CRYPT_SCHEMES and _crypt is not None:
        out = _crypt.crypt(password, v)
        return out is not None and hmac.compare_digest(out, v)
    return _passlib_verify(s, v, password)


def _passlib_verify(scheme: Scheme, value: str, password: str) -> bool:
    from passlib import hash as ph

    handler = {
        Scheme.DES: ph.des_crypt,
        Scheme.MD5: ph.md5_crypt,
        Scheme.APR1: ph.apr_md5_crypt,
        Scheme.SHA256: ph.sha256_crypt,
        Scheme.SHA512: ph.sha512_crypt,
        Scheme.BCRYPT: ph.bcrypt,
    }.get(scheme)
    if handler is None:
        return False
    try:
        return bool(handler.verify(password, value))
    except (ValueError, TypeError):
        return False


def cost_per_try(target: Target) -> float:
    """Estimated seconds for one try, from the scheme and its rounds or cost factor."""
    base = _COST.get(target.scheme, _FAST)
    if target.scheme in (Scheme.SHA256, Scheme.SHA512):
        m = re.match(r"^\$[56]\$rounds=(\d+)\$", target.value)
        if m:
            return base * max(1000, int(m.group(1))) / 5000
    if target.scheme == Scheme.BCRYPT:
        m = re.match(r"^\$2[abxy]?\$(\d\d)\$", target.value)
        if m:
            return base * 2.0 ** (int(m.group(1)) - 10)
    return base


def _run_chunk(target: Target, candidates: Sequence[str], deadline: float) -> tuple[str | None, int]:
    """(password found or None, candidates tried); stops at the wall-clock deadline."""
    for i, pw in enumerate(candidates):
        if time.time() >= deadline:
            return None, i
        if verify(target, pw):
            return pw, i + 1
    return None, len(candidates)


def crack(
    jobs: Sequence[tuple[Target, Sequence[str]]],
    budget: float,
    workers: int | None = None,
    executor_factory: Callable[[int], ProcessPoolExecutor] | None = None,
) -> list[Outcome]:
    """One Outcome per job, in order. Candidates are tried in the order given.

    Work is cut into chunks of about a quarter second and handed out round-robin, so every
    hash gets its most likely candidates tried first; when the budget runs out the rest is
    cancelled and the workers stop at their next candidate.
    """
    deadline = time.time() + max(0.0, budget)
    found: list[str | None] = [None] * len(jobs)
    tried = [0] * len(jobs)
    skipped: list[str | None] = [None] * len(jobs)
    queues: list[list[Sequence[str]]] = []
    pooled_work = 0.0
    for i, (target, cands) in enumerate(jobs):
        cost = cost_per_try(target)
        if cost > budget:
            skipped[i] = f"one try costs about {cost:.1f} s, more than the {budget:.1f} s budget"
            queues.append([])
            continue
        size = max(1, int(_CHUNK_SECONDS / cost))
        queues.append([cands[j : j + size] for j in range(0, len(cands), size)])
        if cost > _FAST:
            pooled_work += cost * len(cands)

    n_workers = workers or min(4, os.cpu_count() or 1)
    pool: ProcessPoolExecutor | None = None
    if pooled_work > _INLINE_SECONDS and n_workers > 1:
        try:
            pool = (executor_factory or _default_pool)(n_workers)
        except (OSError, ValueError, AssertionError, ImportError):
            pool = None  # e.g. a daemonic worker process may not fork: run in-process
    if pool is None:
        _run_inline(jobs, queues, deadline, found, tried)
    else:
        try:
            _run_pooled(pool, jobs, queues, deadline, found, tried)
        except Exception:  # noqa: BLE001 - a broken pool must not lose the scan; redo inline
            rest = [q if found[i] is None else [] for i, q in enumerate(queues)]
            for i in range(len(jobs)):
                tried[i] = tried[i] if found[i] is not None else 0
            _run_inline(jobs, rest, deadline, found, tried)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
    return [Outcome(found[i], tried[i], len(jobs[i][1]), skipped[i]) for i in range(len(jobs))]


def _default_pool(n: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=n)


def _round_robin(queues: list[list[Sequence[str]]]) -> list[tuple[int, Sequence[str]]]:
    order = []
    depth = max((len(q) for q in queues), default=0)
    for level in range(depth):
        for i, q in enumerate(queues):
            if level < len(q):
                order.append((i, q[level]))
    return order


def _run_inline(
    jobs: Sequence[tuple[Target, Sequence[str]]],
    queues: list[list[Sequence[str]]],
    deadline: float,
    found: list[str | None],
    tried: list[int],
) -> None:
    for i, chunk in _round_robin(queues):
        if found[i] is not None:
            continue
        pw, n = _run_chunk(jobs[i][0], chunk, deadline)
        tried[i] += n
        found[i] = pw
        if time.time() >= deadline:
            return


def _run_pooled(
    pool: ProcessPoolExecutor,
    jobs: Sequence[tuple[Target, Sequence[str]]],
    queues: list[list[Sequence[str]]],
    deadline: float,
    found: list[str | None],
    tried: list[int],
) -> None:
    pending: dict[Future[tuple[str | None, int]], int] = {}
    for i, chunk in _round_robin(queues):
        pending[pool.submit(_run_chunk, jobs[i][0], chunk, deadline)] = i
    slowest = max((cost_per_try(t) for t, _ in jobs), default=0.0)
    while pending:
        remaining = deadline - time.time()
        # Running chunks stop by themselves at the deadline; allow them one more try.
        done, _ = wait(pending, timeout=max(0.0, remaining) + slowest + 0.5, return_when=FIRST_COMPLETED)
        if not done:
            break
        for fut in done:
            i = pending.pop(fut)
            if fut.cancelled():
                continue
            pw, n = fut.result()
            tried[i] += n
            if pw is not None and found[i] is None:
                found[i] = pw
                # Chunks already running for this hash finish on their own; stop waiting for them.
                for other, j in list(pending.items()):
                    if j == i:
                        other.cancel()
                        del pending[other]
        if time.time() >= deadline:
            for other in list(pending):
                if other.cancel():
                    del pending[other]
