#!/usr/bin/env python3
"""Load on the assessment centre: N concurrent uploads of corpus images to `assay serve` on
loopback, then a crash (the server's whole process group killed with SIGKILL mid-scan) and a
restart.

Prints the p50/p95 latency of the API (uploads, and status reads while the workers are busy,
against status reads on the idle server measured first in the same run), the time until every
scan has finished, and checks that nothing is lost: every upload ends with a finished scan, and
the scans the crash interrupted are picked up again (or failed after their attempts) after the
restart, never left running.

    .venv/bin/python bench/load.py [--uploads 20] [--workers 2] [--crash-uploads 4]
                                   [--deadline 900] [--corpus /work/shared/corpus]

Bounded: at most --uploads (<= 200) uploads, and the run stops at --deadline seconds with a
non-zero exit. Exit 0 only when nothing was lost.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

BIN = Path(sys.executable).parent
FINISHED = ("done", "failed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def ms(values: list[float]) -> str:
    return f"p50 {pct(values, 50) * 1000:7.1f} ms  p95 {pct(values, 95) * 1000:7.1f} ms  (n={len(values)})"


class Server:
    """`assay serve` in its own process group, so a crash can take out uvicorn and its workers."""

    def __init__(self, data: Path, workers: int) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
        self.env.update(ASSAY_DATA_DIR=str(data), ASSAY_WORKERS=str(workers), ASSAY_SCAN_TIMEOUT="300")
        self.data = data
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def token(self) -> str:
        out = subprocess.run(
            [str(BIN / "assay"), "token", "create", "--name", "load"],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()

    def start(self, timeout: float = 60) -> None:
        self.starts += 1
        log = (self.data / f"server-{self.starts}.log").open("wb")
        self.proc = subprocess.Popen(
            [str(BIN / "assay"), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
            + ["--log-level", "warning"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise SystemExit(f"load: the server did not start; see {self.data}/server-{self.starts}.log")

    def crash(self) -> None:
        """SIGKILL to uvicorn and its workers at once: no shutdown code runs."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def upload(url: str, token: str, image: Path, label: str) -> tuple[float, int, dict[str, Any]]:
    t0 = time.perf_counter()
    with image.open("rb") as fh, httpx.Client(timeout=120) as client:
        r = client.post(
            f"{url}/api/v1/scans",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": (label, fh, "application/octet-stream")},
        )
    return time.perf_counter() - t0, r.status_code, r.json() if r.status_code == 202 else {"text": r.text}


def statuses(url: str, ids: list[int], latencies: list[float] | None = None) -> dict[int, dict[str, Any]]:
    out = {}
    with httpx.Client(timeout=30) as client:
        for sid in ids:
            t0 = time.perf_counter()
            r = client.get(f"{url}/api/v1/scans/{sid}")
            if latencies is not None:
                latencies.append(time.perf_counter() - t0)
            r.raise_for_status()
            out[sid] = r.json()
    return out


def wait_finished(
    url: str, ids: list[int], deadline: float, latencies: list[float] | None = None
) -> dict[int, dict[str, Any]]:
    while True:
        state = statuses(url, ids, latencies)
        if all(s["status"] in FINISHED for s in state.values()):
            return state
        if time.monotonic() > deadline:
            counts = _counts(state)
            raise SystemExit(f"load: deadline reached with scans unfinished: {counts}")
        time.sleep(0.5)


def _counts(state: dict[int, dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in state.values():
        out[s["status"]] = out.get(s["status"], 0) + 1
    return dict(sorted(out.items()))


def concurrent_uploads(
    server: Server, token: str, images: list[Path], n: int, tag: str
) -> tuple[list[int], list[float]]:
    jobs = [
        (images[i % len(images)], f"{images[i % len(images)].parent.name}-{tag}{i}.bin") for i in range(n)
    ]
    with ThreadPoolExecutor(max_workers=n) as pool:
        results = list(pool.map(lambda job: upload(server.url, token, *job), jobs))
    bad = [(code, body) for _, code, body in results if code != 202]
    if bad:
        raise SystemExit(f"load: {len(bad)} uploads refused, first: {bad[0]}")
    return [body["id"] for _, _, body in results], [lat for lat, _, _ in results]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path("/work/shared/corpus"))
    ap.add_argument("--uploads", type=int, default=20)
    ap.add_argument(
        "--crash-uploads", type=int, default=4, help="uploads in flight when the server is killed"
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--deadline", type=float, default=900, help="seconds for the whole run")
    args = ap.parse_args()
    if not 1 <= args.uploads <= 200 or not 0 <= args.crash_uploads <= 50:
        ap.error("--uploads must be 1-200 and --crash-uploads 0-50")
    images = sorted(args.corpus.glob("*/image.bin"))
    if not images:
        ap.error(f"no */image.bin under {args.corpus}")
    deadline = time.monotonic() + args.deadline

    with tempfile.TemporaryDirectory(prefix="assay-load-") as tmp:
        server = Server(Path(tmp), args.workers)
        token = server.token()
        server.start()
        try:
            print(
                f"server {server.url}, {args.workers} scan workers, {len(images)} corpus images, "
                f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
            )

            # Baseline: status reads on the idle server.
            probe_ids, _ = concurrent_uploads(server, token, images[:1], 1, "probe")
            wait_finished(server.url, probe_ids, deadline)
            idle: list[float] = []
            for _ in range(10):
                statuses(server.url, probe_ids * 5, idle)

            # Phase 1: concurrent uploads, then the workers chew through the queue.
            t0 = time.monotonic()
            ids, upload_lat = concurrent_uploads(server, token, images, args.uploads, "u")
            uploaded = time.monotonic() - t0
            busy: list[float] = []
            state = wait_finished(server.url, ids, deadline, busy)
            all_done = time.monotonic() - t0
            counts = _counts(state)
            mb = sum(images[i % len(images)].stat().st_size for i in range(args.uploads)) / 1e6
            print(f"\n{args.uploads} concurrent uploads ({mb:.0f} MB) accepted in {uploaded:.1f} s")
            print(f"  upload (POST /api/v1/scans)       {ms(upload_lat)}")
            print(f"  status read, idle server          {ms(idle)}")
            print(
                f"  status read, workers busy         {ms(busy)}  "
                f"(p50 x{pct(busy, 50) / pct(idle, 50):.1f} of idle)"
            )
            print(
                f"  every scan finished after {all_done:.1f} s "
                f"({all_done / args.uploads:.1f} s per image with {args.workers} workers): {counts}"
            )
            lost = [sid for sid, s in state.items() if s["status"] != "done"]
            print(
                f"  nothing lost: {args.uploads - len(lost)}/{args.uploads} uploads have a finished, "
                f"successful scan" + (f"; not done: {lost}" if lost else "")
            )

            # Phase 2: crash mid-scan, restart, and account for every interrupted scan.
            if args.crash_uploads:
                crash_ids, _ = concurrent_uploads(server, token, images, args.crash_uploads, "c")
                while True:
                    state = statuses(server.url, crash_ids)
                    if sum(s["status"] == "running" for s in state.values()) >= min(
                        args.workers, len(crash_ids)
                    ):
                        break
                    if time.monotonic() > deadline:
                        raise SystemExit("load: deadline reached before the scans started")
                    time.sleep(0.2)
                at_kill = _counts(state)
                server.crash()
                print(f"\nserver killed (SIGKILL to its process group) with scans {at_kill}")
                t1 = time.monotonic()
                server.start()
                restarted = time.monotonic() - t1
                after = statuses(server.url, crash_ids)
                print(f"  restarted in {restarted:.1f} s; right after: {_counts(after)}")
                final = wait_finished(server.url, crash_ids, deadline)
                print(f"  all {len(crash_ids)} finished {time.monotonic() - t1:.1f} s after the restart:")
                for sid in crash_ids:
                    s = final[sid]
                    was = state[sid]["status"]
                    note = f" ({s['error']})" if s["error"] else ""
                    print(
                        f"    scan {sid}: {was} at the kill -> {s['status']} after {s['attempts']} attempt(s){note}"
                    )
                lost += [sid for sid in crash_ids if final[sid]["status"] not in FINISHED]
                left = statuses(server.url, ids + crash_ids)
                hanging = [sid for sid, s in left.items() if s["status"] in ("queued", "running")]
                print(f"  left queued or running: {len(hanging)}")
                lost += hanging
        finally:
            server.stop()
    print("\nOK: nothing lost" if not lost else f"\nFAIL: {len(lost)} scans lost or unfinished: {lost}")
    return 0 if not lost else 1


if __name__ == "__main__":
    sys.exit(main())
