"""Match identified components against the vulnerability database.

* NVD: configurations are evaluated exactly. A cpeMatch holds when a component of the image
  has its (vendor, product) and its version equals the criteria's version (``*`` = any, ``-``
  = none) and lies within the versionStart/End Including/Excluding bounds. Nodes combine with
  OR/AND and ``negate``. Entries with ``vulnerable: false`` are the platform a vulnerable
  product runs on (an AND "running on" configuration): Assay seldom identifies that hardware
  or OS, so it matches on the vulnerable part and notes the platform.
* OSV: the component's purl ecosystem and package name, then ``affected[].ranges``
  (SEMVER/ECOSYSTEM: introduced, fixed, last_affected) and ``versions``.
* Linux: the kernel version against the fixed version of its stable branch (5.10.x fixed in
  5.10.150), else against the mainline fix; with neither, the CVE is not matched and counted.

A component without a version is never matched: every CVE range would hold for it or none
would, so it is listed in the stats as ``unknown_version`` with the number of CVEs that name
its product, and nothing is reported for it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from assay.model import Component
from assay.vulns.cpe import Cpe, parse_cpe
from assay.vulns.db import VulnDB
from assay.vulns.scores import best_score, severity_of
from assay.vulns.version import Version, compare_to_bound

_PURL_ECOSYSTEMS = {
    "deb": "Debian",
    "apk": "Alpine",
    "pypi": "PyPI",
    "npm": "npm",
    "golang": "Go",
    "cargo": "crates.io",
    "maven": "Maven",
    "gem": "RubyGems",
    "nuget": "NuGet",
    "composer": "Packagist",
    "hex": "Hex",
    "pub": "Pub",
}
# Ecosystems whose versions are upstream releases, usable for components found in binaries.
_UPSTREAM_ECOSYSTEMS = frozenset({"", "OSS-Fuzz"})
_KERNEL = ("linux", "linux_kernel")
_MAX_PLATFORMS = 5


@dataclass(frozen=True)
class Target:
    """A component as matching sees it."""

    index: int
    component: Component
    pairs: frozenset[tuple[str, str]]
    osv_names: frozenset[str]
    ecosystems: frozenset[str]

    @property
    def version(self) -> str | None:
        v = self.component.version
        return v if v and any(c.isdigit() for c in v) else None


@dataclass
class Hit:
    id: str
    source: str
    target: Target
    match: dict[str, Any]
    aliases: set[str] = field(default_factory=set)


@dataclass
class MatchResult:
    vulnerabilities: list[dict[str, Any]]
    stats: dict[str, Any]


@lru_cache(maxsize=1)
def _alias_groups() -> tuple[tuple[frozenset[str], frozenset[tuple[str, str]]], ...]:
    text = resources.files("assay.vulns").joinpath("aliases.json").read_text("utf-8")
    groups = []
    for g in json.loads(text)["groups"]:
        pairs = frozenset(tuple(p.split(":", 1)) for p in g["cpe"])
        groups.append((frozenset(n.lower() for n in g["names"]), pairs))
    return tuple(groups)  # type: ignore[arg-type]


def candidate_pairs(component: Component) -> frozenset[tuple[str, str]]:
    """(vendor, product) pairs to look a component up under: its CPE plus the alias groups."""
    pairs: set[tuple[str, str]] = set()
    cpe = parse_cpe(component.cpe)
    if cpe is not None and cpe.vendor not in ("*", "") and cpe.product not in ("*", ""):
        pairs.add((cpe.vendor, cpe.product))
    name = component.name.lower()
    for names, group in _alias_groups():
        if name in names or pairs & group:
            pairs |= group
    return frozenset(pairs)


def _purl_parts(purl: str | None) -> tuple[str, str, str] | None:
    m = re.match(r"pkg:([^/]+)/(?:([^/@?#]+)/)?([^@?#]+)", purl or "")
    if not m:
        return None
    return m.group(1).lower(), (m.group(2) or "").lower(), m.group(3).lower()


def make_target(index: int, component: Component) -> Target:
    pairs = candidate_pairs(component)
    parts = _purl_parts(component.purl)
    if parts and parts[0] in _PURL_ECOSYSTEMS:
        eco = _PURL_ECOSYSTEMS[parts[0]]
        if parts[0] == "deb" and parts[1] == "ubuntu":
            eco = "Ubuntu"
        return Target(index, component, pairs, frozenset({parts[2]}), frozenset({eco}))
    names = {component.name.lower()} | ({parts[2]} if parts else set())
    for group_names, group in _alias_groups():
        if names & group_names or pairs & group:
            names |= group_names
    return Target(index, component, pairs, frozenset(names), _UPSTREAM_ECOSYSTEMS)


# -- NVD configurations ----------------------------------------------------------------------


def version_holds(
    version: str,
    wanted: str,
    start_incl: str | None = None,
    start_excl: str | None = None,
    end_incl: str | None = None,
    end_excl: str | None = None,
) -> bool:
    """Is version the criteria's version (``*`` any, ``-`` none) and within the bounds given?"""
    if wanted == "-" or (wanted != "*" and compare_to_bound(version, wanted) != 0):
        return False
    return (
        (start_incl is None or compare_to_bound(version, start_incl) >= 0)
        and (start_excl is None or compare_to_bound(version, start_excl) > 0)
        and (end_incl is None or compare_to_bound(version, end_incl) <= 0)
        and (end_excl is None or compare_to_bound(version, end_excl) < 0)
    )


def cpe_match_holds(cpe: Cpe, m: dict[str, Any], version: str | None) -> bool:
    """Does one cpeMatch entry hold for this version of a product with cpe's vendor:product?"""
    if version is None:
        return False
    bounds = (
        m.get(k)
        for k in (
            "versionStartIncluding",
            "versionStartExcluding",
            "versionEndIncluding",
            "versionEndExcluding",
        )
    )
    return version_holds(version, cpe.full_version, *(None if b is None else str(b) for b in bounds))


def _has_vulnerable(node: dict[str, Any]) -> bool:
    return any(m.get("vulnerable") for m in node.get("cpeMatch") or ()) or any(
        _has_vulnerable(c) for c in node.get("children") or ()
    )


class _Config:
    """Evaluates NVD configuration nodes against every component of the image."""

    def __init__(self, targets: Sequence[Target]) -> None:
        self.by_pair: dict[tuple[str, str], list[Target]] = {}
        for t in targets:
            for p in t.pairs:
                self.by_pair.setdefault(p, []).append(t)

    def node(self, node: dict[str, Any], platforms: list[str]) -> tuple[bool, dict[int, dict[str, Any]]]:
        """(holds, {target index: the vulnerable cpeMatch that matched it})."""
        entries = node.get("cpeMatch") or []
        vulnerable_only = node.get("operator") == "AND" and any(m.get("vulnerable") for m in entries)
        results: list[bool] = []
        hits: dict[int, dict[str, Any]] = {}
        for m in entries:
            cpe = parse_cpe(m.get("criteria"))
            if cpe is None:
                continue
            if vulnerable_only and not m.get("vulnerable"):
                platforms.append(m["criteria"])  # the AND's platform part: noted, not required
                continue
            holds = False
            for t in self.by_pair.get((cpe.vendor, cpe.product), ()):
                if cpe_match_holds(cpe, m, t.version):
                    holds = True
                    if m.get("vulnerable"):
                        hits.setdefault(t.index, m)
            results.append(holds)
        for child in node.get("children") or ():
            holds, child_hits = self.node(child, platforms)
            results.append(holds)
            for k, v in child_hits.items():
                hits.setdefault(k, v)
        value = (all(results) if node.get("operator") == "AND" else any(results)) if results else False
        if node.get("negate"):
            return not value, {}
        return value, hits if value else {}

    def configuration(self, config: dict[str, Any]) -> tuple[dict[int, dict[str, Any]], list[str]]:
        platforms: list[str] = []
        nodes = config.get("nodes") or []
        # Vulnerable nodes and negated ones ("not with X") must hold; the rest is a platform.
        required = [n for n in nodes if _has_vulnerable(n) or n.get("negate")]
        for n in nodes:
            if not (_has_vulnerable(n) or n.get("negate")):
                platforms += [m["criteria"] for m in n.get("cpeMatch") or () if m.get("criteria")]
        if not any(_has_vulnerable(n) for n in required):
            return {}, platforms
        results = [self.node(n, platforms) for n in required]
        holds = all(r[0] for r in results) if config.get("operator") == "AND" else any(r[0] for r in results)
        if config.get("negate"):
            holds = not holds
        hits: dict[int, dict[str, Any]] = {}
        if holds:
            for ok, h in results:
                if ok:
                    for k, v in h.items():
                        hits.setdefault(k, v)
        return hits, platforms


def _nvd_hits(db: VulnDB, targets: Sequence[Target]) -> list[Hit]:
    evaluator = _Config(targets)
    out: list[Hit] = []
    for t in targets:
        if t.version is None:
            continue
        # Only CVEs with a vulnerable cpeMatch that holds for this version can name it.
        version = t.version
        ids = sorted(
            {row[0] for row in db.nvd_vulnerable_matches(t.pairs) if version_holds(version, *row[1:])}
        )
        for cve_id, configurations in db.nvd_configurations(ids).items():
            for config in configurations:
                hits, platforms = evaluator.configuration(config)
                m = hits.get(t.index)
                if m is None:
                    continue
                match = {k: v for k, v in m.items() if k != "vulnerable"}
                if platforms:
                    match["platforms"] = sorted(set(platforms))[:_MAX_PLATFORMS]
                out.append(Hit(cve_id, "nvd", t, match))
                break
    return out


# -- OSV -------------------------------------------------------------------------------------


def _in_range(version: str, events: list[dict[str, Any]]) -> bool:
    def key(e: dict[str, Any]) -> tuple[int, Any]:
        value = next(iter(e.values()), "0")
        return (0, ()) if value == "0" else (1, Version.parse(str(value)).key)

    affected = False
    for e in sorted((e for e in events if isinstance(e, dict) and e), key=key):
        if "introduced" in e:
            if e["introduced"] == "0" or compare_to_bound(version, str(e["introduced"])) >= 0:
                affected = True
        elif "fixed" in e:
            if compare_to_bound(version, str(e["fixed"])) >= 0:
                affected = False
        elif "last_affected" in e:
            if compare_to_bound(version, str(e["last_affected"])) > 0:
                affected = False
        elif "limit" in e and compare_to_bound(version, str(e["limit"])) >= 0:
            affected = False
    return affected


def osv_affected(record: dict[str, Any], target: Target) -> dict[str, Any] | None:
    """The affected entry (with why) that holds for this component, or None."""
    version = target.version
    if version is None:
        return None
    for aff in record.get("affected") or ():
        pkg = aff.get("package") or {}
        eco = str(pkg.get("ecosystem", "")).split(":", 1)[0]
        if str(pkg.get("name", "")).lower() not in target.osv_names or eco not in target.ecosystems:
            continue
        listed = [str(v) for v in aff.get("versions") or ()]
        if any(compare_to_bound(version, v) == 0 for v in listed):
            return {"package": pkg, "versions": "listed"}
        for r in aff.get("ranges") or ():
            if r.get("type") in ("SEMVER", "ECOSYSTEM") and _in_range(version, r.get("events") or []):
                return {"package": pkg, "range": r.get("events")}
    return None


def _osv_hits(db: VulnDB, targets: Sequence[Target]) -> list[Hit]:
    out: list[Hit] = []
    for t in targets:
        if t.version is None:
            continue
        cands = db.osv_candidates(t.osv_names)
        ids = [i for i, ecos in cands.items() if {e.split(":", 1)[0] for e in ecos} & t.ecosystems]
        for vid, rec in db.osv(sorted(ids)).items():
            why = osv_affected(rec, t)
            if why is not None:
                out.append(Hit(vid, "osv", t, why, set(rec["aliases"])))
    return out


# -- Linux kernel ----------------------------------------------------------------------------


def kernel_verdicts(
    rows: Iterable[tuple[str, str, str | None, str | None]], version: str
) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """({affected CVE: why}, CVEs whose data decides this version either way)."""
    by_cve: dict[str, dict[str, tuple[str | None, str | None]]] = {}
    for cve, branch, fixed, introduced in rows:
        by_cve.setdefault(cve, {})[branch] = (fixed, introduced)
    branch = _branch(version)
    affected: dict[str, dict[str, Any]] = {}
    decided: set[str] = set()
    for cve, data in by_cve.items():
        introduced = data.get("mainline", (None, None))[1]
        if introduced and compare_to_bound(version, introduced) < 0:
            decided.add(cve)
            continue
        if branch in data and data[branch][0]:
            fixed, where = data[branch][0], f"stable {branch}"
        elif "mainline" in data and data["mainline"][0]:
            fixed, where = data["mainline"][0], "mainline"
            stable = sorted((b for b in data if b != "mainline"), key=lambda b: Version.parse(b).key)
            if stable and compare_to_bound(branch, stable[0]) < 0:
                # Fixes only on newer stable branches often mean the code postdates this one.
                where = f"mainline (stable fixes only from {stable[0]} on)"
        else:
            continue
        decided.add(cve)
        if compare_to_bound(version, str(fixed)) < 0:
            affected[cve] = {"branch": where, "fixed": fixed} | (
                {"introduced": introduced} if introduced else {}
            )
    return affected, decided


def _branch(version: str) -> str:
    m = re.match(r"v?(\d+)\.(\d+)", version)
    return f"{int(m.group(1))}.{int(m.group(2))}" if m else version


def _kernel_hits(db: VulnDB, targets: Sequence[Target], stats: dict[str, Any]) -> tuple[list[Hit], set[str]]:
    out: list[Hit] = []
    decided_all: set[str] = set()
    for t in targets:
        if _KERNEL not in t.pairs or t.version is None:
            continue
        affected, decided = kernel_verdicts(db.kernel_rows(_branch(t.version)), t.version)
        decided_all |= decided
        out += [Hit(cve, "kernel", t, why) for cve, why in sorted(affected.items())]
        stats.setdefault("kernel_undecided", {})[t.component.version or ""] = db.kernel_cve_count() - len(
            decided
        )
    return out, decided_all


# -- putting it together ---------------------------------------------------------------------


def match_components(db: VulnDB, components: Sequence[Component]) -> MatchResult:
    targets = [make_target(i, c) for i, c in enumerate(components)]
    stats: dict[str, Any] = {}
    kernel, kernel_decided = _kernel_hits(db, targets, stats)
    nvd = [
        h
        for h in _nvd_hits(db, targets)
        if not (_KERNEL in h.target.pairs and h.id in kernel_decided)  # the branch data decides
    ]
    hits: dict[tuple[str, int], Hit] = {}
    for h in nvd + kernel:
        hits.setdefault((h.id, h.target.index), h)
    for h in _osv_hits(db, targets):
        same = [a for a in sorted(h.aliases) if (a, h.target.index) in hits]
        if same:
            hits[(same[0], h.target.index)].aliases.add(h.id)
        else:
            hits.setdefault((h.id, h.target.index), h)

    unknown = [t for t in targets if t.version is None and (t.pairs or t.osv_names)]
    stats["unknown_version"] = [
        {"component": t.component.name, "cves_naming_product": len(db.nvd_candidates(t.pairs))}
        for t in unknown
    ]
    stats["components_checked"] = sum(1 for t in targets if t.version is not None)
    vulns = _describe(db, list(hits.values()))
    return MatchResult(vulns, stats)


def _describe(db: VulnDB, hits: list[Hit]) -> list[dict[str, Any]]:
    nvd = db.nvd(sorted({h.id for h in hits} | {a for h in hits for a in h.aliases}))
    osv = db.osv(sorted({h.id for h in hits if h.source == "osv"}))
    kev = db.kev({h.id for h in hits} | {a for h in hits for a in h.aliases})
    out: list[dict[str, Any]] = []
    # The same component found twice (same name and version, other files): one entry, all paths.
    seen: dict[tuple[str, str, str | None], dict[str, Any]] = {}
    for h in hits:
        c = h.target.component
        same = seen.get((h.id, c.name, c.version))
        if same is not None:
            same["paths"] = sorted(set(same["paths"]) | set(c.paths))
            same["evidence"] += [e.to_dict() for e in c.evidence if e.to_dict() not in same["evidence"]]
            continue
        cve = next((i for i in [h.id, *sorted(h.aliases)] if i in nvd), None)
        meta_nvd = nvd.get(cve) if cve else None
        meta_osv = osv.get(h.id)
        scores = (meta_nvd or {}).get("scores") or (meta_osv or {}).get("scores") or []
        best = best_score(scores)
        severity = severity_of(best["score"]) if best else None
        if severity is None:
            severity = _osv_severity((meta_osv or {}).get("severity"))
        kev_entry = next((kev[i] for i in [h.id, *sorted(h.aliases)] if i in kev), None)
        out.append(
            {
                "id": h.id,
                "aliases": sorted(h.aliases - {h.id}),
                "source": h.source,
                "component": c.name,
                "version": c.version,
                "purl": c.purl,
                "cpe": c.cpe,
                "severity": severity,
                "cvss": {k: best[k] for k in ("version", "score", "vector")} if best else None,
                "scores": [{k: s.get(k) for k in ("version", "score", "vector", "source")} for s in scores],
                "cwe": (meta_nvd or {}).get("cwe") or (meta_osv or {}).get("cwe") or [],
                "kev": kev_entry is not None,
                "kev_date_added": kev_entry["date_added"] if kev_entry else None,
                "description": (meta_nvd or {}).get("description") or (meta_osv or {}).get("summary") or "",
                "references": (meta_nvd or {}).get("refs") or (meta_osv or {}).get("refs") or [],
                "paths": sorted(c.paths),
                "evidence": [e.to_dict() for e in c.evidence],
                "match": h.match,
                "state": "affected",
                "justification": None,
            }
        )
        seen[(h.id, c.name, c.version)] = out[-1]
    rank = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4, "unknown": 5}
    out.sort(key=lambda v: (rank.get(str(v["severity"]), 5), str(v["component"]), str(v["id"])))
    return out


def _osv_severity(text: str | None) -> str:
    value = (text or "").lower()
    return (
        {"moderate": "medium"}.get(value, value)
        if value
        in (
            "critical",
            "high",
            "moderate",
            "medium",
            "low",
        )
        else "unknown"
    )


__all__ = ["MatchResult", "Target", "candidate_pairs", "cpe_match_holds", "match_components", "osv_affected"]
