"""Corpus scans: many images through a local process pool or a Dask cluster, into the store."""

from assay.corpus.runner import ScanFailed, scan_in_subprocess, scan_one

__all__ = ["ScanFailed", "scan_in_subprocess", "scan_one"]
