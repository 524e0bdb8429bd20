"""What the benchmark scripts share: one `assay scan` run as a user runs it, and the options that
restrict it to the back-door hunt (the nine back-door categories' checks)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from assay.model import BACKDOOR_CATEGORIES

ASSAY = Path(sys.executable).with_name("assay")
HUNT_ONLY = tuple(arg for c in BACKDOOR_CATEGORIES for arg in ("--check", c))


def scan(
    image: Path, out: Path, src: Path | None = None, extra: tuple[str, ...] = ()
) -> tuple[float, float, dict[str, Any] | None, str]:
    """(wall s, CPU s, report, error) of one `assay scan`; src: run that source tree instead;
    extra: more scan options."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    out.unlink(missing_ok=True)  # a report left by an earlier scan must not pass for this one's
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(ASSAY), "scan", str(image), "--format", "json", "-o", str(out), "-q", *extra],
        capture_output=True,
        text=True,
        env=env,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if not out.exists():
        return wall, cpu, None, (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
    return wall, cpu, json.loads(out.read_text(encoding="utf-8")), ""
