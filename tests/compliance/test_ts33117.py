"""TS 33.117 profile: for each image-decidable clause a fixture that passes and one that fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assay.compliance import evaluate, load_profile
from assay.pipeline import ScanOptions, scan

ROOT_OK = "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/:/bin/false\n"
SHADOW_LOCKED = "root:!:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"
SHA512 = "$6$saltsalt$Fnt0K6k1ZOPPE1pYSiaNIvPVjvEhYSfHbgJmWfqvM3GfC0ZX7M1C.nX2nVwLBjSjzYHS6I2.E2bHGJ2SFoWbH1"
MD5 = "$1$abcdefgh$WJw3ZmW7n3T6T8cr1J4Mf/"


def make_root(base: Path, files: dict[str, str], modes: dict[str, int] | None = None) -> Path:
    root = base / "rootfs"
    for rel, text in {"etc/passwd": ROOT_OK, "etc/shadow": SHADOW_LOCKED, **files}.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    for rel, mode in (modes or {}).items():
        os.chmod(root / rel, mode)
    return root


def table(root: Path) -> dict[str, dict[str, Any]]:
    report = scan(root, ScanOptions(profile="ts33117"))
    assert report.compliance is not None
    return {row["clause"]: row for row in report.compliance}


def verdict(root: Path, clause: str) -> str:
    return str(table(root)[clause]["verdict"])


def synthetic(findings: list[dict[str, Any]], **extra: Any) -> dict[str, dict[str, Any]]:
    report = {
        "schema": "x",
        "image": {"name": "t", "layers": []},
        "components": [],
        "findings": findings,
        **extra,
    }
    return {row["clause"]: row for row in evaluate(report, "ts33117")}


def finding(category: str, rule: str | None = None, path: str = "/etc/x", title: str = "t") -> dict[str, Any]:
    return {
        "id": f"{rule or category}-1",
        "rule": rule or category,
        "category": category,
        "severity": "high",
        "title": title,
        "path": path,
        "evidence": [{"path": path, "sha256": "00"}],
        "references": [],
    }


def test_profile_lists_the_required_clauses() -> None:
    clauses = {c["clause"] for c in load_profile("ts33117")["clauses"]}
    required = {
        "4.2.3.2.2", "4.2.3.2.3", "4.2.3.3.5", "4.2.3.4.2.1", "4.2.3.4.2.2", "4.2.3.4.2.3", "4.2.3.4.3.1",
        "4.2.3.6.1", "4.2.3.6.2", "4.2.3.6.3", "4.2.4.2.2", "4.3.2.1", "4.3.2.2", "4.3.2.3", "4.3.2.5",
        "4.3.2.6", "4.3.2.7", "4.3.3.1.2", "4.3.3.1.5", "4.3.3.1.6", "4.3.4.6", "4.3.4.7", "4.3.4.13",
        "4.3.4.14", "4.3.4.15",
    }  # fmt: skip
    assert required <= clauses
    for c in load_profile("ts33117")["clauses"]:
        assert c["title"] and c["image_can_show"] and c["logic"] and "lab" in c


def test_uid0(tmp_path: Path) -> None:
    assert verdict(make_root(tmp_path / "a", {}), "4.2.4.2.2") == "pass"
    bad = make_root(tmp_path / "b", {"etc/passwd": ROOT_OK + "dbg:x:0:0::/:/bin/sh\n"})
    row = table(bad)["4.2.4.2.2"]
    assert row["verdict"] == "fail" and "dbg" in row["reason"]
    assert row["evidence"][0]["path"] == "/etc/passwd" and "dbg:x:0:0" in row["evidence"][0]["excerpt"]


def test_accounts_have_auth(tmp_path: Path) -> None:
    assert verdict(make_root(tmp_path / "a", {}), "4.2.3.4.2.1") == "pass"
    bad = make_root(tmp_path / "b", {"etc/shadow": "root::19000:0:99999:7:::\n"})
    assert verdict(bad, "4.2.3.4.2.1") == "fail"


def test_password_storage(tmp_path: Path) -> None:
    good = make_root(tmp_path / "a", {"etc/shadow": f"root:{SHA512}:19000::::::\n"})
    assert verdict(good, "4.2.3.2.3") == "pass"
    bad = make_root(tmp_path / "b", {"etc/shadow": f"root:{MD5}:19000::::::\n"})
    assert verdict(bad, "4.2.3.2.3") == "fail"


def test_logging(tmp_path: Path) -> None:
    remote = make_root(
        tmp_path / "a", {"etc/init.d/S20syslog": "#!/bin/sh\nsyslogd -R 192.0.2.10:514\nklogd\n"}
    )
    rows = table(remote)
    assert rows["4.2.3.6.1"]["verdict"] == "pass" and rows["4.2.3.6.2"]["verdict"] == "pass"
    local = make_root(tmp_path / "b", {"etc/init.d/S20syslog": "#!/bin/sh\nsyslogd -C64\n"})
    rows = table(local)
    assert rows["4.2.3.6.1"]["verdict"] == "pass" and rows["4.2.3.6.2"]["verdict"] == "fail"
    none = make_root(tmp_path / "c", {"etc/init.d/S10net": "#!/bin/sh\n# syslogd is not started\nifup -a\n"})
    rows = table(none)
    assert rows["4.2.3.6.1"]["verdict"] == "fail" and rows["4.2.3.6.2"]["verdict"] == "fail"
    perms = make_root(tmp_path / "d", {"var/log/messages": "x\n"}, {"var/log/messages": 0o666})
    assert verdict(perms, "4.2.3.6.3") == "fail"
    assert verdict(local, "4.2.3.6.3") == "needs-live-test"


def test_unused_software(tmp_path: Path) -> None:
    assert verdict(make_root(tmp_path / "a", {}), "4.3.2.3") == "pass"
    bad = make_root(
        tmp_path / "b", {"usr/bin/gdbserver": "#!/bin/sh\nexit 0\n"}, {"usr/bin/gdbserver": 0o755}
    )
    row = table(bad)["4.3.2.3"]
    assert row["verdict"] == "fail" and row["evidence"][0]["path"] == "/usr/bin/gdbserver"


def test_sysctl(tmp_path: Path) -> None:
    good = make_root(
        tmp_path / "a",
        {
            "etc/sysctl.conf": "net.ipv4.conf.all.accept_source_route = 0\nnet.ipv6.conf.all.accept_source_route=0\n"
            "net.ipv4.tcp_syncookies = 1\nnet.ipv4.icmp_echo_ignore_broadcasts = 1\n"
            "net.ipv4.conf.all.accept_redirects = 0\nnet.ipv4.icmp_ignore_bogus_error_responses = 1\n"
        },
    )
    rows = table(good)
    assert rows["4.3.3.1.5"]["verdict"] == "pass" and rows["4.3.3.1.2"]["verdict"] == "pass"
    bad = make_root(
        tmp_path / "b",
        {"etc/init.d/rcS": "#!/bin/sh\necho 1 > /proc/sys/net/ipv4/conf/all/accept_source_route\n"},
    )
    row = table(bad)["4.3.3.1.5"]
    assert row["verdict"] == "fail" and row["evidence"][0]["path"] == "/etc/init.d/rcS"
    assert verdict(make_root(tmp_path / "c", {}), "4.3.3.1.5") == "needs-live-test"


def test_automount(tmp_path: Path) -> None:
    bad = make_root(tmp_path / "a", {"etc/mdev.conf": "sd[a-z][0-9]* 0:0 660 */lib/mdev/automount.sh\n"})
    assert verdict(bad, "4.3.3.1.6") == "fail"
    good = make_root(tmp_path / "b", {"etc/mdev.conf": "null 0:0 666\n"})
    assert verdict(good, "4.3.3.1.6") == "pass"
    assert verdict(make_root(tmp_path / "c", {}), "4.3.3.1.6") == "not-applicable"


def test_webserver(tmp_path: Path) -> None:
    hardened = (
        'server.modules = ( "mod_access" )\nserver.document-root = "/www"\nserver.username = "www"\n'
        'server.tag = "web"\n'
    )
    rows = table(make_root(tmp_path / "a", {"etc/lighttpd/lighttpd.conf": hardened, "www/index.html": "hi"}))
    for clause in ("4.3.4.6", "4.3.4.7", "4.3.4.13", "4.3.4.14", "4.3.4.15"):
        assert rows[clause]["verdict"] == "pass", clause
    loose = (
        'server.modules = ( "mod_access", "mod_webdav" )\nserver.document-root = "/www"\n'
        'dir-listing.activate = "enable"\n'
    )
    rows = table(
        make_root(tmp_path / "b", {"etc/lighttpd/lighttpd.conf": loose, "www/index.lighttpd.html": "x"})
    )
    for clause in ("4.3.4.6", "4.3.4.7", "4.3.4.13", "4.3.4.14", "4.3.4.15"):
        assert rows[clause]["verdict"] == "fail", clause
    assert rows["4.3.4.14"]["evidence"][0]["line"] == 3
    rows = table(make_root(tmp_path / "c", {}))
    assert rows["4.3.4.14"]["verdict"] == "not-applicable"


def test_password_policy(tmp_path: Path) -> None:
    assert (
        verdict(make_root(tmp_path / "a", {"etc/login.defs": "PASS_MIN_LEN 12\n"}), "4.2.3.4.3.1") == "pass"
    )
    assert verdict(make_root(tmp_path / "b", {"etc/login.defs": "PASS_MIN_LEN 5\n"}), "4.2.3.4.3.1") == "fail"
    assert verdict(make_root(tmp_path / "c", {}), "4.2.3.4.3.1") == "needs-live-test"


def test_image_signature(tmp_path: Path) -> None:
    assert verdict(make_root(tmp_path / "a", {}), "4.2.3.3.5") == "fail"
    keyed = make_root(tmp_path / "b", {"etc/opkg/keys/b5043e70f9a75cde": "untrusted comment: x\nRWQ...\n"})
    assert verdict(keyed, "4.2.3.3.5") == "needs-live-test"


def test_eol_component() -> None:
    from assay.checks.base import CheckContext
    from assay.checks.eol_component.check import CHECK
    from assay.index import FileIndex
    from assay.model import Component, VersionEvidence

    old = Component(
        "openssl", "1.0.2k", "pkg:generic/openssl@1.0.2k", None, ["/lib/libcrypto.so.1.0.0"],
        [VersionEvidence("/lib/libcrypto.so.1.0.0", "ab", 100, "OpenSSL 1.0.2k  26 Jan 2017", "binary-string")],
    )  # fmt: skip
    new = Component("openssl", "3.5.1", None, None, ["/lib/libcrypto.so.3"])
    ctx = CheckContext(index=FileIndex([], []), components=(old, new), options={"today": "2026-11-23"})
    found = list(CHECK.run(ctx))
    assert (
        len(found) == 1 and found[0].path == "/lib/libcrypto.so.1.0.0" and found[0].evidence[0].offset == 100
    )
    rows = synthetic([found[0].to_dict()])
    assert rows["4.3.2.5"]["verdict"] == "fail"
    rows = synthetic([], components=[{"name": "openssl", "version": "3.5.1"}])
    assert rows["4.3.2.5"]["verdict"] == "pass"


@pytest.mark.parametrize(
    ("clause", "category"),
    [
        ("4.2.3.2.2", "private-key"),
        ("4.2.3.2.2", "hardcoded-credential"),
        ("4.2.3.4.2.2", "default-credential"),
        ("4.2.3.4.2.2", "hidden-account"),
        ("4.2.3.4.2.3", "authorized-key"),
        ("4.3.2.1", "remote-shell"),
        ("4.3.2.7", "setuid-shell"),
        ("4.3.2.6", "remote-shell"),
    ],
)
def test_findings_decide(clause: str, category: str) -> None:
    assert synthetic([finding(category)])[clause]["verdict"] == "fail"
    row = synthetic([])[clause]
    assert row["verdict"] in ("pass", "needs-live-test", "not-applicable")
    failed = synthetic([finding(category)])[clause]
    assert failed["findings"] == [f"{category}-1"] and failed["evidence"][0]["path"] == "/etc/x"


def test_remote_root_login(tmp_path: Path) -> None:
    locked = make_root(tmp_path / "a", {"etc/init.d/S50dropbear": "#!/bin/sh\ndropbear -R -p 22\n"})
    rows = table(locked)
    assert rows["4.3.2.6"]["verdict"] == "pass"
    assert rows["4.2.3.4.2.3"]["verdict"] == "pass"


def test_same_table_from_cli_json_and_html(tmp_path: Path) -> None:
    root = make_root(tmp_path / "a", {"etc/passwd": ROOT_OK + "dbg:x:0:0::/:/bin/sh\n"})
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "assay",
        "scan",
        str(root),
        "--profile",
        "ts33117",
        "-q",
        "-f",
        "json",
        "-f",
        "html",
        "-o",
        str(out),
    ]
    subprocess.run(cmd, check=True, capture_output=True)
    report = json.loads((out / "rootfs.json").read_text())
    direct = {r["clause"]: r["verdict"] for r in report["compliance"]}
    printed = subprocess.run(
        [sys.executable, "-m", "assay", "compliance", str(out / "rootfs.json"), "--format", "json"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert printed.returncode == 1  # a failing clause
    assert {r["clause"]: r["verdict"] for r in json.loads(printed.stdout)} == direct
    html = (out / "rootfs.html").read_text()
    for clause, v in direct.items():
        assert clause in html and v in html


def test_compliance_doc_is_current(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    out = tmp_path / "compliance.md"
    subprocess.run([sys.executable, str(repo / "scripts" / "gen-compliance-doc.py"), str(out)], check=True)
    assert out.read_text() == (repo / "docs" / "compliance.md").read_text(), (
        "run scripts/gen-compliance-doc.py"
    )


def test_insecure_services(tmp_path: Path) -> None:
    rcs = "#!/bin/sh\nfor s in /etc/init.d/S??*; do $s start; done\n"
    bad = make_root(
        tmp_path / "a",
        {
            "etc/init.d/rcS": rcs,
            "etc/init.d/S60tftp": "#!/bin/sh\nTFTPD=/usr/sbin/tftpd\n$TFTPD -l /tmp &\n",
            "etc/inittab": "::sysinit:/etc/init.d/rcS\n",
        },
        {"etc/init.d/rcS": 0o755, "etc/init.d/S60tftp": 0o755},
    )
    row = table(bad)["4.3.2.1"]
    assert row["verdict"] == "fail" and "tftpd" in row["reason"]
    assert row["evidence"][0]["path"] == "/etc/init.d/S60tftp" and "$TFTPD" in row["evidence"][0]["excerpt"]
    commented = make_root(
        tmp_path / "b",
        {"etc/init.d/rcS": rcs + "# tftpd -l /tmp\n", "etc/inittab": "::sysinit:/etc/init.d/rcS\n"},
        {"etc/init.d/rcS": 0o755},
    )
    assert verdict(commented, "4.3.2.1") == "pass"


def test_service_exposure(tmp_path: Path) -> None:
    def root(line: str, name: str) -> Path:
        return make_root(
            tmp_path / name,
            {"etc/inittab": "::sysinit:/etc/init.d/rcS\n", "etc/init.d/rcS": f"#!/bin/sh\n{line}\n"},
            {"etc/init.d/rcS": 0o755},
        )

    assert verdict(root("dropbear -R -p 22", "a"), "4.3.2.2") == "fail"
    assert verdict(root("dropbear -R -p 192.168.1.1:22", "b"), "4.3.2.2") == "needs-live-test"
