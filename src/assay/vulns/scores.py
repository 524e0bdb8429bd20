"""CVSS scores from NVD metrics and OSV severity vectors, and the severity they give."""

from __future__ import annotations

from typing import Any

from cvss import CVSS2, CVSS3, CVSS4  # type: ignore[import-untyped]
from cvss.exceptions import CVSSError  # type: ignore[import-untyped]

# Preference when one score must stand for the CVE: newest CVSS first, NVD's own over a CNA's.
_VERSION_ORDER = {"4.0": 0, "3.1": 1, "3.0": 2, "2.0": 3}


def severity_of(score: float | None) -> str:
    """The qualitative rating of CVSS v3/v4 (v2 scores use the same bands here)."""
    if score is None:
        return "unknown"
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    if score > 0.0:
        return "low"
    return "info"


def score_entry(metric: dict[str, Any]) -> dict[str, Any] | None:
    """One NVD `cvssMetricV*` item as {version, score, vector, source, type}."""
    data = metric.get("cvssData") or {}
    score = data.get("baseScore")
    if score is None:
        return None
    return {
        "version": str(data.get("version") or ""),
        "score": float(score),
        "vector": str(data.get("vectorString") or ""),
        "source": str(metric.get("source") or ""),
        "type": str(metric.get("type") or ""),
    }


def osv_scores(severity: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """OSV `severity` entries carry a vector; compute its base score."""
    out = []
    for s in severity:
        vector = str(s.get("score") or "")
        kind = str(s.get("type") or "")
        try:
            if kind == "CVSS_V4":
                c4 = CVSS4(vector)
                out.append(
                    {"version": "4.0", "score": float(c4.base_score), "vector": vector, "type": "Primary"}
                )
            elif kind == "CVSS_V3":
                c3 = CVSS3(vector)
                version = "3.0" if vector.startswith("CVSS:3.0") else "3.1"
                out.append(
                    {"version": version, "score": float(c3.base_score), "vector": vector, "type": "Primary"}
                )
            elif kind == "CVSS_V2":
                c2 = CVSS2(vector)
                out.append(
                    {"version": "2.0", "score": float(c2.base_score), "vector": vector, "type": "Primary"}
                )
        except (CVSSError, ValueError, KeyError):
            continue
    return out


def best_score(scores: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The score that stands for the CVE: a primary one, then the newest CVSS version."""
    if not scores:
        return None
    return min(
        scores,
        key=lambda s: (s.get("type") != "Primary", _VERSION_ORDER.get(str(s.get("version")), 9)),
    )


__all__ = ["best_score", "osv_scores", "score_entry", "severity_of"]
