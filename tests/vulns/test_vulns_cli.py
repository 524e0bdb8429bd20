"""The commands as a user runs them: db import/stats/update, vulns on an SBOM, scan with --db/--vex/--triage."""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import shutil
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL
from vuln_helpers import DATA, SAMPLES, InProcess, MakeTree, RunAssay, build_db

from assay import reports
from assay.vulns.update import Feed, default_feeds, fetch_all

BUSYBOX = b"\x7fELF-not-really\x00BusyBox v1.30.1 (2019-02-14 18:11:29 UTC) multi-call binary.\x00"


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("ASSAY_VULN_DB", "XDG_DATA_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ASSAY_DATA_DIR", str(tmp_path / "assay-data"))


def test_db_import_and_stats(assay_in_process: InProcess, tmp_path: Path) -> None:
    db = tmp_path / "v.sqlite"
    code, _, err = assay_in_process("db", "import", *(DATA / s for s in SAMPLES), "--db", db)
    assert code == 0, err
    assert "nvdcve-2.0-sample.json: 11 nvd records" in err  # 12, one REJECTED
    code, out, err = assay_in_process("db", "stats", "--db", db, "--format", "json")
    assert code == 0, err
    stats = json.loads(out)
    assert (stats["nvd_cves"], stats["kev_entries"], stats["kernel_cves"]) == (11, 2, 6)
    code, out, _ = assay_in_process("db", "stats", "--db", db)
    assert "nvd cves" in out and "11" in out
    code, _, err = assay_in_process("db", "stats", "--db", tmp_path / "none.sqlite")
    assert code == 3 and err.count("\n") == 1 and "no vulnerability database" in err
    code, _, err = assay_in_process("db", "import", tmp_path / "nope.json", "--db", db)
    assert code == 3 and "no such file" in err
    # the default path: ASSAY_DATA_DIR/vulns.sqlite
    code, _, err = assay_in_process("db", "import", DATA / "kev-sample.csv", "-q")
    assert code == 0 and (tmp_path / "assay-data" / "vulns.sqlite").is_file()


def test_db_update_offline_fails_fast_with_one_line(run_assay: RunAssay, tmp_path: Path) -> None:
    start = time.monotonic()
    # 192.0.2.0/24 is TEST-NET-1: never routed; the short timeout bounds the wait
    res = run_assay(
        "db",
        "update",
        "--db",
        tmp_path / "v.sqlite",
        "--cache",
        tmp_path / "cache",
        "--mirror",
        "http://192.0.2.1:9",
        "--timeout",
        "1",
        "-q",
    )
    assert time.monotonic() - start < 30
    assert res.returncode == 9, res.stderr
    assert res.stderr.startswith(
        "assay: network error: cannot download http://192.0.2.1:9/nvdcve-2.0-2002.json.gz"
    )
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr


@contextlib.contextmanager
def _mirror(served: Path, ranges: list[str | None]) -> Iterator[str]:
    """A local HTTP server standing in for the feed hosts; records each request's Range header."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            spec = self.headers.get("Range")
            ranges.append(spec)
            if spec:
                data = (served / self.path.lstrip("/")).read_bytes()
                first = int(spec.split("=")[1].split("-")[0])
                self.send_response(206)
                self.send_header("Content-Length", str(len(data) - first))
                self.end_headers()
                self.wfile.write(data[first:])
                return
            super().do_GET()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(served))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_download_resumes_with_range_and_keeps_done_markers(tmp_path: Path) -> None:
    served = tmp_path / "mirror"
    served.mkdir()
    shutil.copy(DATA / "nvdcve-2.0-modified.json.gz", served / "a.json.gz")
    shutil.copy(DATA / "kev-sample.csv", served / "kev.csv")
    ranges: list[str | None] = []
    with _mirror(served, ranges) as base:
        cache = tmp_path / "cache"
        cache.mkdir()
        whole = (served / "a.json.gz").read_bytes()
        (cache / "a.json.gz.part").write_bytes(whole[:100])  # an interrupted download
        feeds = [Feed("a.json.gz", f"{base}/a.json.gz"), Feed("kev.csv", f"{base}/kev.csv")]
        got = fetch_all(feeds, cache, timeout=5)
        assert [new for _, new in got] == [True, True]
        assert ranges == ["bytes=100-", None]
        assert (cache / "a.json.gz").read_bytes() == whole
        assert (cache / "a.json.gz.done").exists() and not (cache / "a.json.gz.part").exists()
        # done markers: a second run fetches nothing
        again = fetch_all(feeds, cache, timeout=5)
        assert [new for _, new in again] == [False, False] and len(ranges) == 2


def test_db_update_from_a_mirror_downloads_then_imports(assay_in_process: InProcess, tmp_path: Path) -> None:
    served = tmp_path / "mirror"
    served.mkdir()
    sources = {
        "known_exploited_vulnerabilities.csv": "kev-sample.csv",
        "stream_fixes.json": "stream_fixes-sample.json",
        "CVEs.txt": "CVEs-sample.txt",
        "osv-OSS-Fuzz.zip": None,
    }
    for feed in default_feeds(("OSS-Fuzz",)):
        src = sources.get(feed.name, "nvdcve-2.0-sample.json" if feed.name.endswith("-2024.json.gz") else "")
        if src is None:
            with zipfile.ZipFile(served / feed.name, "w") as zf:
                for f in sorted((DATA / "osv").iterdir()):
                    zf.write(f, f.name)
        elif src:
            shutil.copy(DATA / src, served / feed.name)
        else:  # the other years: an empty feed in the real shape
            (served / feed.name).write_text('{"format": "NVD_CVE", "version": "2.0", "vulnerabilities": []}')
    db, cache = tmp_path / "v.sqlite", tmp_path / "cache"
    with _mirror(served, []) as base:
        code, _, err = assay_in_process(
            "db", "update", "--db", db, "--cache", cache, "--mirror", base, "--osv", "OSS-Fuzz"
        )
        assert code == 0, err
        assert f"{len(default_feeds(('OSS-Fuzz',)))} files downloaded" in err
        code, out, _ = assay_in_process("db", "stats", "--db", db, "--format", "json")
        stats = json.loads(out)
        assert (stats["nvd_cves"], stats["osv_records"], stats["kev_entries"], stats["kernel_cves"]) == (
            11,
            3,
            2,
            6,
        )
        code, _, err = assay_in_process(
            "db", "update", "--db", db, "--cache", cache, "--mirror", base, "--osv", "OSS-Fuzz"
        )
        assert code == 0 and "0 files downloaded, 0 imported" in err


def _sbom(path: Path) -> Path:
    bom = Bom()
    bom.components.add(
        Component(
            name="busybox",
            version="1.34.1",
            type=ComponentType.APPLICATION,
            purl=PackageURL("generic", name="busybox", version="1.34.1"),
            bom_ref="c1",
        )
    )
    bom.components.add(
        Component(
            name="dropbear",
            version="2022.82",
            type=ComponentType.APPLICATION,
            cpe="cpe:2.3:a:dropbear_ssh_project:dropbear_ssh:2022.82:*:*:*:*:*:*:*",
            bom_ref="c2",
        )
    )
    bom.components.add(Component(name="dnsmasq", type=ComponentType.APPLICATION, bom_ref="c3"))
    text = JsonV1Dot6(bom).output_as_string(indent=2)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    path.write_text(text)
    return path


def test_vulns_on_an_sbom(assay_in_process: InProcess, tmp_path: Path) -> None:
    db = build_db(tmp_path / "v.sqlite")
    sbom = _sbom(tmp_path / "sbom.cdx.json")
    code, out, err = assay_in_process("vulns", sbom, "--db", db, "--format", "json")
    assert code == 0, err
    found = json.loads(out)
    assert {(v["id"], v["component"]) for v in found["vulnerabilities"]} == {
        ("CVE-2099-1001", "busybox"),
        ("CVE-2099-1003", "dropbear"),
    }
    assert found["stats"]["unknown_version"][0]["component"] == "dnsmasq"
    code, out, _ = assay_in_process("vulns", sbom, "--db", db)
    assert "CVE-2099-1001" in out and "KEV" in out and "dnsmasq" in out
    assert assay_in_process("vulns", sbom, "--db", db, "--fail-on", "critical")[0] == 1
    # triaged away, the critical one no longer fails the pipeline; the medium one still does
    triage = tmp_path / "triage.json"
    triage.write_text(
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.6",
                "vulnerabilities": [
                    {
                        "id": "CVE-2099-1001",
                        "analysis": {"state": "not_affected", "justification": "code_not_present"},
                    }
                ],
            }
        )
    )
    assert assay_in_process("vulns", sbom, "--db", db, "--triage", triage, "--fail-on", "critical")[0] == 0
    assert assay_in_process("vulns", sbom, "--db", db, "--triage", triage, "--fail-on", "medium")[0] == 1
    code, _, err = assay_in_process("vulns", DATA / "kev-sample.csv", "--db", db)
    assert code == 3 and "not a readable JSON file" in err


def test_scan_with_db_vex_and_triage(
    make_tree: MakeTree, assay_in_process: InProcess, tmp_path: Path
) -> None:
    db = build_db(tmp_path / "v.sqlite")
    root = make_tree(
        {"/bin/busybox": BUSYBOX, "/etc/passwd": "root:x:0:0:root:/root:/bin/sh\n"},
        modes={"/bin/busybox": 0o755},
    )
    vex = tmp_path / "out.vex.json"
    code, out, err = assay_in_process("scan", root, "--db", db, "--vex", vex, "--json")
    assert code == 0, err
    report = json.loads(out)
    reports.validate(report)
    [v] = [v for v in report["vulnerabilities"] if v["id"] == "CVE-2099-1001"]
    assert (v["component"], v["version"], v["state"], v["kev"]) == ("busybox", "1.30.1", "affected", True)
    assert v["paths"] == ["/bin/busybox"]
    assert v["evidence"][0]["match"] == "BusyBox v1.30.1" and v["evidence"][0]["path"] == "/bin/busybox"
    assert report["stats"]["vulnerabilities"]["affected"] == 1
    assert report["summary"]["vulnerabilities"] == len(report["vulnerabilities"])
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(vex.read_text()) is None
    # the analyst marks it not affected; the next scan keeps it, with the verdict
    doc = json.loads(vex.read_text())
    doc["vulnerabilities"][0]["analysis"] = {
        "state": "not_affected",
        "justification": "requires_configuration",
        "detail": "ash is not built in",
    }
    triage = tmp_path / "triage.json"
    triage.write_text(json.dumps(doc))
    code, out, err = assay_in_process("scan", root, "--db", db, "--triage", triage, "--json")
    assert code == 0, err
    report = json.loads(out)
    reports.validate(report)
    [v] = [v for v in report["vulnerabilities"] if v["id"] == "CVE-2099-1001"]
    assert (v["state"], v["justification"], v["detail"]) == (
        "not_affected",
        "requires_configuration",
        "ash is not built in",
    )
    assert report["stats"]["vulnerabilities"]["affected"] == 0
    # still listed, with its verdict, but no longer counted against the image
    assert report["summary"]["vulnerabilities_triaged"] >= 1
    assert (
        report["summary"]["vulnerabilities"]
        == len(report["vulnerabilities"]) - report["summary"]["vulnerabilities_triaged"]
    )
    html = reports.render(report, "html")
    assert "CVE-2099-1001" in html
    sarif = json.loads(reports.render(report, "sarif"))
    assert any(r["ruleId"] == "CVE-2099-1001" for r in sarif["runs"][0]["results"])
