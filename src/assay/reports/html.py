"""One self-contained HTML file (inline CSS and JS, no external URL) that reads offline."""

from __future__ import annotations

import stat
from collections import Counter
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

SEVERITIES = ("critical", "high", "medium", "low", "info")
FILE_PAGE = 500  # file rows shown at once; the filter box reaches the rest

_KIND_BITS = {
    "file": stat.S_IFREG,
    "dir": stat.S_IFDIR,
    "symlink": stat.S_IFLNK,
    "char": stat.S_IFCHR,
    "block": stat.S_IFBLK,
    "fifo": stat.S_IFIFO,
    "socket": stat.S_IFSOCK,
}


def _environment() -> Environment:
    # Firmware strings are hostile: autoescape everything, whatever the template's name.
    env = Environment(
        loader=PackageLoader("assay.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["weblink"] = weblink
    return env


def weblink(ref: Any) -> str | None:
    """The reference as an href if it is a plain web URL; javascript: and the like stay text."""
    if (
        isinstance(ref, str)
        and ref.startswith(("https://", "http://"))
        and not any(c in ref for c in " \t\r\n")
    ):
        return ref
    return None


def mode_string(kind: str, mode: str | int) -> str:
    """ls-style mode (-rwsr-xr-x) from the report's kind and octal mode."""
    bits = int(mode, 8) if isinstance(mode, str) else int(mode)
    return stat.filemode(_KIND_BITS.get(kind, stat.S_IFREG) | (bits & 0o7777))


def _file_row(f: dict[str, Any]) -> dict[str, Any]:
    bits = int(f.get("mode", "0"), 8) if isinstance(f.get("mode"), str) else int(f.get("mode") or 0)
    special = bool(bits & (stat.S_ISUID | stat.S_ISGID)) or (
        bool(bits & stat.S_IWOTH) and f.get("kind") != "symlink"
    )
    return {
        "path": f["path"],
        "fs": f.get("fs", ""),
        "mode": mode_string(f.get("kind", "file"), bits),
        "uid": f.get("uid", ""),
        "gid": f.get("gid", ""),
        "size": f.get("size", ""),
        "type": f.get("type") or f.get("kind", ""),
        "sha256": f.get("sha256") or "",
        "link": f.get("link_target"),
        "special": special,
    }


def _file_order(f: dict[str, Any]) -> tuple[str, str]:
    return (str(f.get("fs", "")), str(f.get("path", "")))


def _counts(report: dict[str, Any]) -> tuple[dict[str, int], dict[str, int]]:
    findings = report.get("findings", [])
    sev = Counter(f.get("severity") for f in findings)
    cat = Counter(f.get("category") for f in findings)
    return {s: sev.get(s, 0) for s in SEVERITIES}, dict(sorted(cat.items()))


def render(report: dict[str, Any]) -> str:
    by_severity, by_category = _counts(report)
    findings = report.get("findings", [])
    groups = [(s, [f for f in findings if f.get("severity") == s]) for s in SEVERITIES]
    compliance = report.get("compliance")
    verdicts = Counter(c.get("verdict") for c in compliance or [])
    template = _environment().get_template("report.html.j2")
    return template.render(
        image=report.get("image", {}),
        tool=report.get("tool", {}),
        schema=report.get("schema", ""),
        filesystems=report.get("filesystems", []),
        by_severity=by_severity,
        by_category=by_category,
        total_findings=len(findings),
        groups=[(s, fs) for s, fs in groups if fs],
        components=report.get("components", []),
        vulnerabilities=report.get("vulnerabilities") or [],
        compliance=compliance,
        verdicts=dict(verdicts),
        files=[_file_row(f) for f in sorted(report.get("files", []), key=_file_order)],
        warnings=report.get("warnings", []),
        page=FILE_PAGE,
    )
