"""Where Assay keeps data between runs (XDG base directories, overridable)."""

from __future__ import annotations

import os
from pathlib import Path

from assay.errors import InputError


def data_dir() -> Path:
    if os.environ.get("ASSAY_DATA_DIR"):
        return Path(os.environ["ASSAY_DATA_DIR"])
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "assay"


def default_db_path() -> Path:
    if os.environ.get("ASSAY_VULN_DB"):
        return Path(os.environ["ASSAY_VULN_DB"])
    return data_dir() / "vulns.sqlite"


RESULT_CACHE_NAME = "results-cache.sqlite"


def result_cache_path(beside: Path | None = None) -> Path:
    """Where corpus scans keep per-file check results (see checks.cache): ASSAY_RESULT_CACHE, else
    next to their database file, else in the data directory."""
    if os.environ.get("ASSAY_RESULT_CACHE"):
        return Path(os.environ["ASSAY_RESULT_CACHE"])
    return (beside or data_dir()) / RESULT_CACHE_NAME


def result_cache_option(path: Path | None) -> Path | None:
    """A --cache value as given, or a one-line error when it names a directory."""
    if path is not None and path.is_dir():
        raise InputError(f"--cache {path}: a directory; give the path of a file")
    return path


def existing_db_path() -> Path | None:
    """The default vulnerability database when there is one we may read; scans then use it."""
    path = default_db_path()
    try:
        # A home directory we may not enter (HOME=/root for another user) means no database.
        return path if path.is_file() and os.access(path, os.R_OK) else None
    except OSError:
        return None
