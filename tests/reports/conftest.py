"""A real scan of a small squashfs, enriched with findings, components, CVEs and compliance
built from the scanned files themselves, so every renderer sees true paths, hashes and offsets."""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assay.checks.base import Check, evidence_at, evidence_of_file
from assay.model import Component, Severity, VersionEvidence
from assay.pipeline import Report, scan

XSS = "<script>alert(1)</script>"
DATA = Path(__file__).parent / "data"


def _never(ctx: Any) -> list[Any]:
    return []


CHECKS = {
    "cred": Check(
        id="test-default-credential",
        category="default-credential",
        severity=Severity.CRITICAL,
        title="Default password",
        description="An account has a password from a public default list.",
        clause="4.2.3.4.2.1",
        references=("https://cwe.mitre.org/data/definitions/1392.html", "javascript:alert(1)"),
        run=_never,
    ),
    "shell": Check(
        id="test-remote-shell",
        category="remote-shell",
        severity=Severity.HIGH,
        title="Unauthenticated shell",
        description="telnetd serves a shell without login.",
        references=("https://cwe.mitre.org/data/definitions/306.html",),
        run=_never,
    ),
    "suid": Check(
        id="test-setuid",
        category="setuid-shell",
        severity=Severity.MEDIUM,
        title="Setuid file",
        description="A file runs with its owner's rights.",
        run=_never,
    ),
    "note": Check(
        id="test-hostile",
        category="configuration",
        severity=Severity.LOW,
        title="Hostile",
        description="Strings taken from the firmware.",
        run=_never,
    ),
}


def md5crypt(password: str, salt: str) -> str:
    out = subprocess.run(
        ["openssl", "passwd", "-1", "-salt", salt, password], check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


def sample_files() -> dict[str, bytes]:
    shadow = f"root:{md5crypt('admin', 'x5Gq')}:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n"
    return {
        "/etc/passwd": b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n",
        "/etc/shadow": shadow.encode(),
        "/etc/init.d/rcS": b"#!/bin/sh\nmount -a\ntelnetd -l /bin/sh -p 23\n",
        "/bin/helper": b'#!/bin/sh\nexec /bin/sh "$@"\n',
        "/www/index.html": f"<html><body>{XSS}</body></html>\n".encode(),
        f"/www/{XSS}": b"x\n",
        "/www/cgi-bin/<img src=x onerror=alert(1)>.sh": b"#!/bin/sh\n",
    }


ReportFactory = Callable[..., dict[str, Any]]


def _squashfs(root: Path, image: Path) -> Path:
    files = sample_files()
    for path, content in files.items():
        host = root / path.lstrip("/")
        host.parent.mkdir(parents=True, exist_ok=True)
        host.write_bytes(content)
    (root / "sbin").mkdir()
    (root / "bin/sh").symlink_to("helper")
    (root / "sbin/init").symlink_to("../bin/helper")
    for path, mode in {"/bin/helper": 0o4755, "/etc/shadow": 0o600, "/etc/init.d/rcS": 0o755}.items():
        (root / path.lstrip("/")).chmod(mode)
    subprocess.run(
        ["mksquashfs", str(root), str(image), "-noappend", "-all-root", "-quiet"],
        check=True,
        capture_output=True,
    )
    return image


@pytest.fixture(scope="session")
def _full_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Scan a real image once, then add report sections as the later stages would."""
    tmp = tmp_path_factory.mktemp("rich")
    files = sample_files()
    image = _squashfs(tmp / "root", tmp / "fw.sqsh")
    report: Report = scan(image)
    entries = {e.path: e for e in report.files}
    shadow = files["/etc/shadow"]
    rcs = files["/etc/init.d/rcS"]
    html = files["/www/index.html"]
    tel = rcs.find(b"telnetd")
    findings = [
        CHECKS["cred"].finding(
            "/etc/shadow",
            "root password is 'admin'",
            [evidence_at(entries["/etc/shadow"], shadow, 0, shadow.index(b"\n"), note="md5crypt")],
        ),
        CHECKS["shell"].finding(
            "/etc/init.d/rcS",
            "telnetd started with -l /bin/sh",
            [
                evidence_at(entries["/etc/init.d/rcS"], rcs, tel, len(b"telnetd -l /bin/sh")),
                evidence_of_file(entries["/bin/helper"], note="the shell it serves"),
            ],
        ),
        CHECKS["suid"].finding(
            "/bin/helper", "setuid-root script", [evidence_of_file(entries["/bin/helper"])]
        ),
        CHECKS["note"].finding(
            "/www/index.html",
            f"title {XSS}",
            [evidence_at(entries["/www/index.html"], html, html.index(b"<script"), len(XSS))],
        ),
    ]
    report.findings = findings
    report.rules = [
        {
            "id": c.id,
            "category": c.category,
            "severity": c.severity.value,
            "title": c.title,
            "clause": c.clause,
            "description": c.description,
            "references": list(c.references),
        }
        for c in CHECKS.values()
    ]
    helper = entries["/bin/helper"]
    report.components = [
        Component(
            name="busybox",
            version="1.35.0",
            purl="pkg:generic/busybox@1.35.0",
            cpe="cpe:2.3:a:busybox:busybox:1.35.0:*:*:*:*:*:*:*",
            paths=["/bin/helper"],
            evidence=[VersionEvidence("/bin/helper", helper.sha256 or "", 0, "#!/bin/sh", "binary-string")],
            hashes={"/bin/helper": helper.sha256 or ""},
        )
    ]
    report.vulnerabilities = [
        {
            "id": "CVE-2022-48174",
            "component": "busybox",
            "version": "1.35.0",
            "severity": "critical",
            "summary": "stack overflow in ash",
            "references": ["https://nvd.nist.gov/vuln/detail/CVE-2022-48174"],
            "paths": ["/bin/helper"],
        }
    ]
    report.compliance = [
        {
            "clause": "4.2.3.4.2.1",
            "title": "Predefined accounts",
            "verdict": "fail",
            "reason": "root has a default password",
            "findings": [findings[0].id],
            "evidence": [],
        },
        {
            "clause": "4.2.4.1.1.1",
            "title": "Services",
            "verdict": "needs-live-test",
            "reason": "",
            "findings": [],
        },
        {
            "clause": "4.2.6.2.1",
            "title": "Ports",
            "verdict": "pass",
            "reason": "none",
            "findings": [],
        },
    ]
    report.warnings.append(f"planted warning {XSS} [bold]markup[/bold]")
    # Round-trip through JSON: renderers get exactly what a saved report holds.
    return json.loads(json.dumps(report.to_dict()))  # type: ignore[no-any-return]


@pytest.fixture
def report_factory(_full_report: dict[str, Any]) -> ReportFactory:
    """A fresh copy of the enriched scan; tests may change it freely."""

    def build(*, compliance: bool = True, vulnerabilities: bool = True) -> dict[str, Any]:
        report = copy.deepcopy(_full_report)
        if not compliance:
            del report["compliance"]
        if not vulnerabilities:
            report["vulnerabilities"] = []
            report["summary"]["vulnerabilities"] = 0
        return report

    return build


@pytest.fixture
def rich_report(report_factory: ReportFactory) -> dict[str, Any]:
    return report_factory()


@pytest.fixture(scope="session")
def sarif_schema() -> dict[str, Any]:
    return json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]
