"""`assay` as a user runs it: real processes, real squashfs images, exit codes and streams."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from assay import __version__
from assay.reports import validate

REPO = Path(__file__).resolve().parents[1]
SARIF_SCHEMA = Path(__file__).parent / "reports" / "data" / "sarif-schema-2.1.0.json"

FILES = {
    "/etc/passwd": "root:x:0:0:root:/root:/bin/sh\n",
    "/etc/init.d/rcS": "#!/bin/sh\ntelnetd -l /bin/sh\n",
    "/bin/tool": "#!/bin/sh\necho tool\n",
    "/www/index.html": "<html></html>\n",
}


@pytest.fixture
def image(make_squashfs: Any) -> Path:
    return make_squashfs(FILES, symlinks={"/bin/sh": "tool"}, modes={"/bin/tool": 0o4755})  # type: ignore[no-any-return]


def _one_error_line(proc: subprocess.CompletedProcess[str], code: int, words: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("assay: ") and words in lines[0], lines[0]
    assert "Traceback" not in proc.stderr


def test_version(run_assay: Any) -> None:
    proc = run_assay("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"assay {__version__}"


def test_help_lists_scan(run_assay: Any) -> None:
    proc = run_assay("--help")
    assert proc.returncode == 0
    assert "scan" in proc.stdout


def test_json_to_file(run_assay: Any, image: Path, tmp_path: Path) -> None:
    out = tmp_path / "r" / "report.json"
    proc = run_assay("scan", image, "--format", "json", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    report = json.loads(out.read_text())
    validate(report)
    assert report["image"]["name"] == image.name
    assert report["image"]["format"] == "squashfs"
    files = {f["path"]: f for f in report["files"]}
    assert files["/bin/tool"]["mode"] == "4755"
    assert files["/bin/sh"]["link_target"] == "tool"
    # Without --quiet the summary goes to stderr, never stdout.
    assert f"{image.name} (squashfs)" in proc.stderr


def test_several_formats_to_directory(run_assay: Any, image: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    proc = run_assay("scan", image, "-f", "json", "-f", "sarif", "-f", "html", "-o", out, "-q")
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"{image.name}.{ext}" for ext in ("json", "sarif", "html"))
    validate(json.loads((out / f"{image.name}.json").read_text()))
    sarif = json.loads((out / f"{image.name}.sarif").read_text())
    schema = json.loads(SARIF_SCHEMA.read_text())
    assert [e.message for e in Draft4Validator(schema).iter_errors(sarif)] == []
    assert sarif["version"] == "2.1.0"
    assert sarif["runs"][0]["properties"]["image"]["name"] == image.name
    html = (out / f"{image.name}.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert f"Assay report: {image.name}" in html
    assert "-rwsr-xr-x" in html


def test_several_formats_need_a_directory(run_assay: Any, image: Path) -> None:
    _one_error_line(run_assay("scan", image, "-f", "json", "-f", "html"), 3, "-o DIRECTORY")


def test_unknown_format_is_a_usage_error(run_assay: Any, image: Path) -> None:
    _one_error_line(run_assay("scan", image, "-f", "pdf"), 2, "pdf")


def test_unknown_check_is_one_line_error(run_assay: Any, image: Path) -> None:
    _one_error_line(run_assay("scan", image, "--check", "no-such-rule"), 3, "no-such-rule")


def test_check_none_runs_only_the_inventory(run_assay: Any, make_squashfs: Any) -> None:
    status = (
        "Package: dropbear\nVersion: 2022.82-2\nStatus: install user installed\nArchitecture: mips_24kc\n\n"
    )
    packaged = make_squashfs({**FILES, "/usr/lib/opkg/status": status})
    proc = run_assay("scan", packaged, "--json", "--check", "none")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["rules"] == [] and report["findings"] == []
    assert [c["name"] for c in report["components"]] == ["dropbear"]
    assert report["stats"]["timings"]["per_check"] == {}
    assert report["stats"]["timings"]["inventory"] > 0


def test_negative_jobs_is_one_line_error(run_assay: Any, image: Path) -> None:
    _one_error_line(run_assay("scan", image, "--jobs", "-1"), 3, "--jobs")


def test_only_the_checks_asked_for_run_side_by_side_or_in_turn(run_assay: Any, image: Path) -> None:
    reports = []
    for jobs in ("1", "2"):
        proc = run_assay(
            "scan", image, "--json", "--check", "remote-shell", "--check", "setuid-shell", "--jobs", jobs
        )
        assert proc.returncode == 0, proc.stderr
        reports.append(json.loads(proc.stdout))
    serial, parallel = reports
    assert {r["id"] for r in serial["rules"]} == {"remote-shell", "setuid-shell"}
    assert set(serial["stats"]["timings"]["per_check"]) == {"remote-shell", "setuid-shell"}
    assert {f["rule"] for f in serial["findings"]} == {"remote-shell", "setuid-shell"}
    assert serial["stats"]["check_jobs"] == 1 and parallel["stats"]["check_jobs"] == 2
    assert [f["id"] for f in parallel["findings"]] == [f["id"] for f in serial["findings"]]


LOGIN_C = r"""
#include <stdio.h>
#include <string.h>
int main(void) {
    char pass[64];
    fputs("Password: ", stdout);
    if (!fgets(pass, sizeof pass, stdin)) return 1;
    pass[strcspn(pass, "\n")] = 0;
    if (strcmp(pass, "Zx9!kLm2q") == 0) { puts("welcome"); return 0; }
    return 1;
}
"""


def test_result_cache_is_reused_by_the_next_scan(run_assay: Any, make_squashfs: Any, tmp_path: Path) -> None:
    import sqlite3

    (tmp_path / "login.c").write_text(LOGIN_C)
    subprocess.run(["gcc", "-O2", "-s", "-o", str(tmp_path / "login"), str(tmp_path / "login.c")], check=True)
    program = (tmp_path / "login").read_bytes()
    image = make_squashfs({**FILES, "/usr/sbin/login": program}, modes={"/usr/sbin/login": 0o755})
    cache = tmp_path / "cache" / "results.sqlite"
    reports = []
    for _ in range(2):
        proc = run_assay("scan", image, "--json", "--check", "hardcoded-credential", "--cache", cache)
        assert proc.returncode == 0, proc.stderr
        reports.append(json.loads(proc.stdout))
    first, second = reports
    assert [f["title"] for f in first["findings"]] == ["Hard-coded password 'Zx9!kLm2q' compared in login"]
    assert second["findings"] == first["findings"]
    assert first["stats"]["result_cache"] == str(cache)
    rows = sqlite3.connect(cache).execute("SELECT check_id, sha256 FROM results").fetchall()
    login = next(f for f in first["files"] if f["path"] == "/usr/sbin/login")
    assert ("hardcoded-credential", login["sha256"]) in rows


def test_result_cache_that_is_a_directory_is_one_line_error(
    run_assay: Any, image: Path, tmp_path: Path
) -> None:
    _one_error_line(run_assay("scan", image, "--cache", tmp_path), 3, "--cache")


def test_json_flag_prints_only_json(run_assay: Any, image: Path) -> None:
    proc = run_assay("scan", image, "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)  # nothing but the document on stdout
    validate(report)
    assert proc.stderr == ""


def test_quiet_prints_nothing_on_stderr(run_assay: Any, image: Path) -> None:
    proc = run_assay("scan", image, "--quiet")
    assert proc.returncode == 0
    assert proc.stderr == ""
    validate(json.loads(proc.stdout))


def test_scan_a_directory(run_assay: Any, make_tree: Any) -> None:
    root = make_tree(FILES, symlinks={"/bin/sh": "tool"})
    proc = run_assay("scan", root, "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    validate(report)
    assert report["image"]["sha256"] is None
    assert {"/etc/passwd", "/bin/sh", "/www/index.html"} <= {f["path"] for f in report["files"]}


def test_demo_sample_builds_and_scans(run_assay: Any, tmp_path: Path) -> None:
    """The image `make demo` scans: built by the repo's own script from Debian's busybox-static."""
    image = tmp_path / "sample.sqsh"
    subprocess.run(
        ["bash", str(REPO / "scripts" / "build-sample.sh"), str(image)], check=True, capture_output=True
    )
    proc = run_assay("scan", image, "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    validate(report)
    files = {f["path"]: f for f in report["files"]}
    assert files["/bin/busybox"]["type"] == "elf"
    assert files["/usr/sbin/dbgsh"]["mode"] == "4755"
    assert files["/usr/sbin/telnetd"]["kind"] == "symlink"
    assert files["/etc/shadow"]["mode"] == "0600"
    shadow = next(f for f in report["files"] if f["path"] == "/etc/shadow")
    assert shadow["size"] > 0


def test_default_vuln_db_is_used_only_when_readable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assay.paths import existing_db_path

    db = tmp_path / "vulns.sqlite"
    monkeypatch.setenv("ASSAY_VULN_DB", str(db))
    assert existing_db_path() is None
    db.write_bytes(b"")
    assert existing_db_path() == db

    # Another user's home (HOME=/root for a non-root user) must mean "no database", not a crash.
    def denied(self: Path) -> bool:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "is_file", denied)
    assert existing_db_path() is None
