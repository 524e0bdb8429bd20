"""Runs one scan in its own process so the parent can kill it on timeout.

Usage: python -m assay.corpus.child IMAGE OUT.json [RESULT_CACHE.sqlite]
Progress goes to stdout as lines prefixed with runner.PROGRESS_MARK; an AssayError is one line on
stderr and the class's exit code."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from assay.corpus.runner import PROGRESS_MARK
from assay.errors import AssayError


def _die_with_parent() -> None:
    """A runner killed with SIGKILL cannot kill us: notice it and take our process group
    (unsquashfs & co.) down too, so no scan is left running for nobody."""
    parent = os.getppid()
    leader = os.getpgid(0) == os.getpid()  # started with start_new_session by the runner

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        if leader:
            os.killpg(0, signal.SIGKILL)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str]) -> int:
    from assay.paths import existing_db_path
    from assay.pipeline import ScanOptions, scan

    _die_with_parent()
    image, out = Path(argv[0]), Path(argv[1])
    options = ScanOptions()
    options.vuln_db = existing_db_path()
    options.result_cache = Path(argv[2]) if len(argv) > 2 else None
    last_time, last_label = 0.0, ""

    def progress(stage: str, done: int | None, total: int | None) -> None:
        nonlocal last_time, last_label
        now = time.monotonic()
        label = stage.split(" ", 1)[0]
        # Throttle: the parent only needs the current stage, not every check id.
        if label == last_label and now - last_time < 0.5:
            return
        last_time, last_label = now, label
        text = stage if total is None else f"{stage} {done}/{total}"
        sys.stdout.write(PROGRESS_MARK + text.replace("\n", " ")[:200] + "\n")
        sys.stdout.flush()

    try:
        report = scan(image, options, progress).to_dict()
    except AssayError as exc:
        sys.stderr.write(f"{exc.kind}: {exc}".replace("\n", " ") + "\n")
        return exc.exit_code
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(report), encoding="utf-8")
    tmp.replace(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
