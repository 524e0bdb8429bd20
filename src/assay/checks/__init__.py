"""Check registry: every sub-package with a `check` module exporting CHECK (or CHECKS)."""

from __future__ import annotations

import importlib
import pkgutil

from assay.checks.base import Check, CheckContext
from assay.checks.runner import CheckRun, default_jobs, run_checks

RULESET_VERSION = "2026.11.1"


def all_checks() -> list[Check]:
    found: list[Check] = []
    pkg = importlib.import_module(__name__)
    for mod in pkgutil.iter_modules(pkg.__path__):
        if not mod.ispkg:
            continue
        try:
            module = importlib.import_module(f"{__name__}.{mod.name}.check")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{mod.name}.check":
                continue
            raise
        if hasattr(module, "CHECKS"):
            found.extend(module.CHECKS)
        elif hasattr(module, "CHECK"):
            found.append(module.CHECK)
    return sorted(found, key=lambda c: c.id)


__all__ = ["RULESET_VERSION", "Check", "CheckContext", "CheckRun", "all_checks", "default_jobs", "run_checks"]
