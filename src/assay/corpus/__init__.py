"""Corpus scans: many images through a local process pool or a Dask cluster, into the store."""

from assay.corpus.run import CorpusItem, collect_images, plan, run
from assay.corpus.runner import ScanFailed, scan_in_subprocess, scan_one

__all__ = ["CorpusItem", "ScanFailed", "collect_images", "plan", "run", "scan_in_subprocess", "scan_one"]
