"""`assay diff` on image pairs built with mksquashfs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from cmp_helpers import assay_cli, gcc, mksquashfs, need, run_main

from assay.compare.diff import diff_images
from assay.compare.render import render_diff
from assay.compare.schema import DIFF_JSON_SCHEMA

BUSYBOX_C = r"""
#include <stdio.h>
static const char banner[] = "BusyBox vVERSION (2024-01-01 00:00:00 UTC) multi-call binary.";
int main(void) { return puts(banner) < 0; }
"""


def by_path(result: dict, status: str | None = None) -> dict[str, dict]:
    return {f["path"]: f for f in result["files"] if status is None or f["status"] == status}


def test_same_rootfs_packed_twice_is_identical(rootfs: Callable[[str], Path], tmp_path: Path) -> None:
    root = rootfs("root")
    a = mksquashfs(root, tmp_path / "a.sqfs", mtime=1_600_000_000)
    b = mksquashfs(root, tmp_path / "b.sqfs", mtime=1_700_000_000)
    assert a.read_bytes() != b.read_bytes()  # the mtimes really differ
    result = diff_images(a, b, jobs=1)
    jsonschema.validate(result, DIFF_JSON_SCHEMA)
    assert result["identical"] is True
    assert result["files"] == []
    assert result["old"]["sha256"] != result["new"]["sha256"]
    assert "same files" in render_diff(result, "text")


def test_security_delta_and_file_changes(
    rootfs: Callable[[str], Path], binaries: dict[str, Path], tmp_path: Path
) -> None:
    old_root, new_root = rootfs("old"), rootfs("new")
    # a changed password hash, telnetd added to rcS, a rename, a setuid bit, a new symlink target
    need("openssl")
    sha512 = subprocess.run(
        ["openssl", "passwd", "-6", "-salt", "saltsalt", "new secret"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    shadow = (new_root / "etc/shadow").read_text().replace("$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", sha512)
    (new_root / "etc/shadow").write_text(shadow)
    with open(new_root / "etc/init.d/rcS", "a") as fh:
        fh.write("busybox telnetd -l /bin/sh &\n")
    (new_root / "usr/share/doc/readme.txt").rename(new_root / "usr/share/doc/README")
    (new_root / "bin/hello").unlink()
    shutil.copy(binaries["hello2"], new_root / "bin/hello")
    (new_root / "bin/hello").chmod(0o4755)
    (new_root / "bin/sh").unlink()
    (new_root / "bin/sh").symlink_to("hello")
    (new_root / "etc/passwd").write_text(
        (new_root / "etc/passwd").read_text() + "support:x:0:0::/tmp:/bin/sh\n"
    )
    # keys: one private key gone, one new, and a vendor's authorized key for root
    need("ssh-keygen")
    for key in (old_root / "etc/old.key", new_root / "etc/server.key"):
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(key)], check=True)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vendor@factory", "-f", str(tmp_path / "id")],
        check=True,
    )
    (new_root / "root/.ssh").mkdir(parents=True)
    shutil.copy(tmp_path / "id.pub", new_root / "root/.ssh/authorized_keys")
    ssh_fp = subprocess.run(
        ["ssh-keygen", "-lf", str(tmp_path / "id.pub")], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    a = mksquashfs(old_root, tmp_path / "old.sqfs")
    b = mksquashfs(new_root, tmp_path / "new.sqfs")
    result = diff_images(a, b)  # two worker processes
    jsonschema.validate(result, DIFF_JSON_SCHEMA)
    assert result["identical"] is False
    sec = result["security"]

    changed_accounts = {x["name"]: x for x in sec["accounts"]["changed"]}
    assert changed_accounts["root"]["changes"] == ["password"]
    assert changed_accounts["root"]["old"]["password"] == "md5"
    assert changed_accounts["root"]["new"]["password"] == "sha512"
    assert sha512 not in json.dumps(sec["accounts"])  # the account delta fingerprints hashes
    assert [x["name"] for x in sec["accounts"]["added"]] == ["support"]
    assert "nobody" not in changed_accounts

    added_services = sec["services"]["added"]
    assert [(s["program"], s["source"]) for s in added_services] == [("telnetd", "/etc/init.d/rcS")]
    assert sec["services"]["removed"] == []
    assert added_services[0]["enabled"] is True
    assert {(p["port"], p["program"], p["from"]) for p in sec["ports"]["added"]} == {
        (23, "telnetd", "boot command")
    }

    findings_added = {(x["rule"], x["path"]) for x in sec["findings"]["added"]}
    assert {
        ("remote-shell", "/etc/init.d/rcS"),
        ("private-key", "/etc/server.key"),
        ("authorized-key", "/root/.ssh/authorized_keys"),
    } <= findings_added
    # the md5-crypt hash is gone with the new sha512 one
    assert {(x["rule"], x["path"]) for x in sec["findings"]["removed"]} == {
        ("private-key", "/etc/old.key"),
        ("weak-password-hash", "/etc/shadow"),
    }
    keys_added = {(k["kind"], k["path"]): k for k in sec["keys"]["added"]}
    assert keys_added[("authorized-key", "/root/.ssh/authorized_keys")]["fingerprint"] == ssh_fp
    assert keys_added[("authorized-key", "/root/.ssh/authorized_keys")]["comment"] == "vendor@factory"
    assert ("private-key", "/etc/server.key") in keys_added
    assert [(k["kind"], k["path"]) for k in sec["keys"]["removed"]] == [("private-key", "/etc/old.key")]

    renamed = by_path(result, "renamed")
    assert renamed["/usr/share/doc/README"]["old_path"] == "/usr/share/doc/readme.txt"
    assert "/usr/share/doc/README" not in by_path(result, "added")

    changed = by_path(result, "changed")
    hello = changed["/bin/hello"]
    assert hello["changes"] == ["content", "setuid"]
    assert (hello["old"]["mode"], hello["new"]["mode"]) == ("-rwxr-xr-x", "-rwsr-xr-x")
    elf = hello["details"]["elf"]
    assert "extra_export" in elf["exports_added"]
    assert "puts" in elf["imports_added"]
    assert ".text" in elf["sections_resized"] or ".rodata" in elf["sections_resized"]
    assert isinstance(hello["details"]["tlsh_distance"], int)
    assert changed["/bin/sh"]["changes"] == ["link_target"]
    rcs = changed["/etc/init.d/rcS"]["details"]["diff"]
    assert "+busybox telnetd -l /bin/sh &" in rcs["lines"]
    assert rcs["added"] == 1 and rcs["removed"] == 0

    text = render_diff(result, "text")
    assert "+ boot service telnetd" in text
    assert "+ finding [critical] remote-shell remote-shell at /etc/init.d/rcS" in text
    assert "- finding [high] private-key private-key at /etc/old.key" in text
    assert f"+ authorized-key ssh-ed25519 {ssh_fp} at /root/.ssh/authorized_keys" in text
    assert "+ port 23/tcp telnetd" in text
    assert "~ account root: password hash changed (md5" in text
    assert "renamed  /usr/share/doc/readme.txt -> /usr/share/doc/README" in text


def busybox_pair(rootfs: Callable[[str], Path], tmp_path: Path) -> tuple[Path, Path]:
    """Two images whose BusyBox banners say 1.35.0 and 1.36.1."""
    old_root, new_root = rootfs("old"), rootfs("new")
    gcc(BUSYBOX_C.replace("VERSION", "1.35.0"), old_root / "bin/busybox", "11" * 10)
    gcc(BUSYBOX_C.replace("VERSION", "1.36.1"), new_root / "bin/busybox", "22" * 10)
    for r in (old_root, new_root):
        shutil.rmtree(r / "bin/busybox.src")
    return mksquashfs(old_root, tmp_path / "o.sqfs"), mksquashfs(new_root, tmp_path / "n.sqfs")


def nvd_feed(path: Path, ranges: dict[str, dict[str, str]]) -> Path:
    """A small NVD CVE API 2.0 feed: one BusyBox CVE per version range."""
    vulns = [
        {
            "cve": {
                "id": cve,
                "published": "2024-01-01T00:00:00.000",
                "lastModified": "2024-01-01T00:00:00.000",
                "vulnStatus": "Analyzed",
                "descriptions": [{"lang": "en", "value": f"BusyBox {cve} (test)"}],
                "metrics": {},
                "configurations": [
                    {
                        "nodes": [
                            {
                                "operator": "OR",
                                "negate": False,
                                "cpeMatch": [
                                    {
                                        "vulnerable": True,
                                        "criteria": "cpe:2.3:a:busybox:busybox:*:*:*:*:*:*:*:*",
                                        **bounds,
                                    }
                                ],
                            }
                        ]
                    }
                ],
                "references": [],
            }
        }
        for cve, bounds in ranges.items()
    ]
    feed = {"format": "NVD_CVE", "version": "2.0", "totalResults": len(vulns), "vulnerabilities": vulns}
    path.write_text(json.dumps(feed))
    return path


def test_component_version_bump_with_cves_added_and_fixed(
    rootfs: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from assay.vulns.db import VulnDB
    from assay.vulns.importers import import_path

    # Made-up ids: what matters is which side of the bump each range puts them on.
    feed = nvd_feed(
        tmp_path / "feed.json",
        {
            "CVE-2099-7001": {"versionEndExcluding": "1.36.0"},  # fixed by 1.36.1
            "CVE-2099-7002": {"versionStartIncluding": "1.36.0", "versionEndExcluding": "1.37.0"},  # added
            "CVE-2099-7003": {"versionEndExcluding": "1.38.0"},  # on both sides
        },
    )
    db = tmp_path / "vulns.sqlite"
    with VulnDB(db, create=True) as conn:
        import_path(conn, feed)
    old, new = busybox_pair(rootfs, tmp_path)
    code, out, err = run_main(capsys, "diff", str(old), str(new), "--db", str(db), "-f", "json")
    assert code == 1, err
    result = json.loads(out)
    jsonschema.validate(result, DIFF_JSON_SCHEMA)
    comps = result["security"]["components"]
    row = next(c for c in comps["changed"] if c["name"] == "busybox")
    assert row["old_versions"] == ["1.35.0"] and row["new_versions"] == ["1.36.1"]
    assert row["cves_added"] == ["CVE-2099-7002"]
    assert row["cves_fixed"] == ["CVE-2099-7001"]
    assert comps["vulnerabilities_known"] is True
    assert (comps["cves_added"], comps["cves_fixed"]) == (["CVE-2099-7002"], ["CVE-2099-7001"])
    text = render_diff(result, "text")
    assert "~ component busybox 1.35.0 -> 1.36.1 (CVEs added: CVE-2099-7002; fixed: CVE-2099-7001)" in text

    # An analyst triaged CVE-2099-7002 as not affecting this product: the bump no longer adds it.
    triage = tmp_path / "triage.cdx.json"
    triage.write_text(
        json.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.6",
                "vulnerabilities": [
                    {
                        "id": "CVE-2099-7002",
                        "analysis": {"state": "not_affected", "justification": "code_not_reachable"},
                    }
                ],
            }
        )
    )
    code, out, err = run_main(
        capsys, "diff", str(old), str(new), "--db", str(db), "--triage", str(triage), "-f", "json"
    )
    assert code == 1, err
    row = next(c for c in json.loads(out)["security"]["components"]["changed"] if c["name"] == "busybox")
    assert (row["cves_added"], row["cves_fixed"]) == ([], ["CVE-2099-7001"])

    code, _, err = run_main(capsys, "diff", str(old), str(new), "--db", str(tmp_path / "none.sqlite"))
    assert code == 2 and "vulnerability database not found" in err and err.count("\n") == 1


def test_html_is_escaped(rootfs: Callable[[str], Path], tmp_path: Path) -> None:
    old_root, new_root = rootfs("old"), rootfs("new")
    (new_root / "etc/<img src=x onerror=alert(1)>").write_text("x")
    with open(new_root / "etc/inittab", "a") as fh:
        fh.write("::once:/bin/echo '<script>alert(2)</script>'\n")
    result = diff_images(
        mksquashfs(old_root, tmp_path / "o.sqfs"), mksquashfs(new_root, tmp_path / "n.sqfs"), jobs=1
    )
    html = render_diff(result, "html")
    assert "<img src=x" not in html and "<script>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert html.startswith("<!doctype html>")
    # self-contained: no stylesheet, script or image to fetch; the only URL is the schema id, as text
    assert "<link" not in html and "<script" not in html and "://" not in html.replace(result["schema"], "")


def test_cli_exit_codes_and_formats(
    rootfs: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old_root, new_root = rootfs("old"), rootfs("new")
    (new_root / "etc/banner").write_text("welcome\n")
    a = mksquashfs(old_root, tmp_path / "a.sqfs")
    b = mksquashfs(new_root, tmp_path / "b.sqfs")

    # The installed entry point, once: exit 1 when the images differ.
    differ = assay_cli("diff", str(a), str(b), "--format", "json", "-o", str(tmp_path / "d.json"))
    assert differ.returncode == 1, differ.stderr
    data = json.loads((tmp_path / "d.json").read_text())
    assert [(f["status"], f["path"]) for f in data["files"]] == [("added", "/etc/banner")]

    code, out, _ = run_main(capsys, "diff", str(a), str(a), "-f", "html")
    assert code == 0 and out.startswith("<!doctype html>") and "hold the same files" in out

    code, _, err = run_main(capsys, "diff", str(a), str(tmp_path / "nope.bin"))
    assert code == 2 and err.count("\n") == 1 and "nope.bin" in err and "Traceback" not in err
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    code, _, err = run_main(capsys, "diff", str(empty), str(a))
    assert code == 2 and "empty" in err
    code, _, err = run_main(capsys, "diff", str(a), str(b), "--format", "pdf")
    assert code == 2 and "--format" in err
    code, _, err = run_main(capsys, "diff", str(a))
    assert code == 2  # usage error from the argument parser


def test_directory_against_image(rootfs: Callable[[str], Path], tmp_path: Path) -> None:
    root = rootfs("root")
    image = mksquashfs(root, tmp_path / "a.sqfs")
    (root / "etc/added.conf").write_text("port=8080\n")
    result = diff_images(image, root, jobs=1)
    assert "/etc/added.conf" in by_path(result, "added")
    assert {(p["port"], p["from"]) for p in result["security"]["ports"]["added"]} == {(8080, "config")}


def test_scratch_dir_only_when_both_trees_fit() -> None:
    from assay.compare.sides import scratch_dir
    from assay.unpack import Limits

    assert scratch_dir(Limits(max_total_bytes=1 << 60)) is None  # never more than tmpfs can hold
    small = scratch_dir(Limits(max_total_bytes=1 << 20))
    if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK):
        assert small == "/dev/shm"
