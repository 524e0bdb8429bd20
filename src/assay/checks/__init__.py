"""Check registry: every sub-package with a `check` module exporting CHECK (or CHECKS)."""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Callable
from dataclasses import dataclass

from assay.checks.base import Check, CheckContext
from assay.model import Finding

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


@dataclass
class CheckRun:
    findings: list[Finding]
    timings: dict[str, float]
    errors: dict[str, str]


def run_checks(
    ctx: CheckContext,
    checks: list[Check] | None = None,
    progress: Callable[[str], None] | None = None,
) -> CheckRun:
    """Run each check in turn; one failing check is reported, not fatal to the scan."""
    findings: list[Finding] = []
    timings: dict[str, float] = {}
    errors: dict[str, str] = {}
    seen: set[str] = set()
    for check in checks if checks is not None else all_checks():
        if progress:
            progress(check.id)
        t0 = time.perf_counter()
        try:
            for f in check.run(ctx):
                if f.id not in seen:
                    seen.add(f.id)
                    findings.append(f)
        except Exception as exc:  # noqa: BLE001 - a broken check must not sink the report
            errors[check.id] = f"{type(exc).__name__}: {exc}"
        timings[check.id] = time.perf_counter() - t0
    findings.sort(key=lambda f: (-f.severity.rank, f.category, f.path, f.rule))
    return CheckRun(findings, timings, errors)


__all__ = ["RULESET_VERSION", "Check", "CheckContext", "CheckRun", "all_checks", "run_checks"]
