"""Plain-data model shared by every stage: findings, evidence, components, report."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

SCHEMA_ID = "https://assay.dev/schema/report/1.0"
SCHEMA_VERSION = "1.0"

# The nine back-door categories of the JSON contract; other checks use their own.
BACKDOOR_CATEGORIES = (
    "default-credential",
    "hidden-account",
    "hardcoded-credential",
    "private-key",
    "authorized-key",
    "remote-shell",
    "known-backdoor",
    "phone-home",
    "setuid-shell",
)

# Vulnerability analysis states that still count as "affected" in summaries and --fail-on.
AFFECTED_STATES = frozenset({"affected", "under_investigation"})


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return ["info", "low", "medium", "high", "critical"].index(self.value)


@dataclass(frozen=True)
class Evidence:
    """Proof anyone can re-check: the file, its hash, and where applicable the bytes."""

    path: str
    sha256: str
    offset: int | None = None
    length: int | None = None
    excerpt: str | None = None
    line: int | None = None
    note: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: v for k, v in d.items() if v is not None and v != {}}


@dataclass(frozen=True)
class Finding:
    rule: str
    category: str
    severity: Severity
    title: str
    path: str
    evidence: tuple[Evidence, ...]
    references: tuple[str, ...] = ()
    clause: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.evidence:
            raise ValueError(f"finding {self.rule} at {self.path} has no evidence")
        if not self.path.startswith("/"):
            raise ValueError(f"finding path must start with '/': {self.path!r}")

    @property
    def id(self) -> str:
        """Stable across runs: the same rule on the same bytes gives the same id."""
        h = hashlib.sha256()
        h.update(self.rule.encode())
        h.update(self.path.encode())
        for ev in self.evidence:
            h.update(f"{ev.path}|{ev.sha256}|{ev.offset}|{ev.excerpt}".encode())
        return f"{self.rule}-{h.hexdigest()[:12]}"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "rule": self.rule,
            "category": self.category,
            "severity": self.severity.value,
            "title": self.title,
            "path": self.path,
            "evidence": [e.to_dict() for e in self.evidence],
            "references": list(self.references),
        }
        if self.clause:
            d["clause"] = self.clause
        if self.details:
            d["details"] = self.details
        return d


@dataclass(frozen=True)
class VersionEvidence:
    path: str
    sha256: str
    offset: int | None
    match: str
    source: str  # "binary-string", "package-db", "version-file", "filename", ...

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class Component:
    name: str
    version: str | None
    purl: str | None
    cpe: str | None
    paths: list[str] = field(default_factory=list)
    evidence: list[VersionEvidence] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)  # path -> sha256
    supplier: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "purl": self.purl,
            "cpe": self.cpe,
            "paths": sorted(self.paths),
            "evidence": [e.to_dict() for e in self.evidence],
            "hashes": dict(sorted(self.hashes.items())),
        }
