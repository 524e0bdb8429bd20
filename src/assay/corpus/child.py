"""Runs one scan in its own process so the parent can kill it on timeout.

Usage: python -m assay.corpus.child IMAGE OUT.json
Progress goes to stdout as lines prefixed with PROGRESS_MARK; an AssayError is one line on
stderr and the class's exit code."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from assay.errors import AssayError

PROGRESS_MARK = "@assay-progress "


def main(argv: list[str]) -> int:
    from assay.paths import default_db_path
    from assay.pipeline import ScanOptions, scan

    image, out = Path(argv[0]), Path(argv[1])
    options = ScanOptions()
    if default_db_path().exists():
        options.vuln_db = default_db_path()
    last = [0.0, ""]

    def progress(stage: str, done: int | None, total: int | None) -> None:
        now = time.monotonic()
        label = stage.split(" ", 1)[0]
        # Throttle: the parent only needs the current stage, not every check id.
        if label == last[1] and now - last[0] < 0.5:
            return
        last[0], last[1] = now, label
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
