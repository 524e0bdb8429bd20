"""Child-process entry for the unblob fallback: `python -m assay.unpack._unblob_child BLOB OUT`.

A separate process so the parent can kill it on the time or byte limit, and so
unblob's logging, process pool and sandbox never touch the scanning process.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(blob: Path, outdir: Path) -> int:
    from unblob.logging import configure_logger
    from unblob.processing import ExtractionConfig, process_file

    log = outdir.parent / (outdir.name + ".unblob.log")
    configure_logger(0, outdir, log)
    config = ExtractionConfig(
        extract_root=outdir,
        randomness_depth=0,
        max_depth=1,  # Assay's own policy decides what is opened next
        process_num=1,
        verbose=0,
        force_extract=True,
    )
    try:
        from unblob.sandbox import Sandbox

        result = Sandbox(config, log, None).run(process_file, config, blob)
    except ImportError:
        result = process_file(config, blob)
    for err in list(getattr(result, "errors", []))[:3]:
        print(f"unblob: {err}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
