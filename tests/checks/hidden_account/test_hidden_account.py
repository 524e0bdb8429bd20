"""hidden-account: extra UID 0 and password-bearing service accounts, zero noise on clean systems."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from accounts_helpers import PASSWD, SHADOW, assert_evidence_matches, make_root, openssl_hash, run_check  # noqa: E402

from assay.checks.hidden_account.check import CHECK  # noqa: E402
from assay.model import Severity  # noqa: E402


def test_clean_system_has_no_findings(tmp_path: Path) -> None:
    passwd = PASSWD + "admin:x:1000:1000:Admin:/home/admin:/bin/sh\n"
    shadow = SHADOW + "admin:" + openssl_hash("-6", "Vendor-Admin-2024!") + ":19358::::::\n"
    root = make_root(tmp_path / "r", {"/etc/passwd": passwd, "/etc/shadow": shadow})
    assert run_check(CHECK, root) == []


def test_extra_uid0_with_login_shell(tmp_path: Path) -> None:
    passwd = PASSWD + "dbg:x:0:0:dbg:/root:/bin/sh\n"
    shadow = SHADOW + "dbg:" + openssl_hash("-6", "s3cr3t-debug") + ":19358:0:99999:7:::\n"
    root = make_root(tmp_path / "r", {"/etc/passwd": passwd, "/etc/shadow": shadow})
    (f,) = run_check(CHECK, root)
    assert (f.category, f.path, f.severity) == ("hidden-account", "/etc/passwd", Severity.CRITICAL)
    assert f.details["account"] == "dbg" and f.details["uid"] == 0
    assert [e.path for e in f.evidence] == ["/etc/passwd", "/etc/shadow"]
    assert f.evidence[0].line == 5
    assert_evidence_matches(root, f)


def test_locked_or_shell_less_uid0_is_only_a_note(tmp_path: Path) -> None:
    passwd = PASSWD + "toor:x:0:0::/root:/bin/sh\nhalt:x:0:0:halt:/sbin:/sbin/halt\n"
    shadow = SHADOW + "toor:!:19358::::::\nhalt:*:19358::::::\n"
    root = make_root(tmp_path / "r", {"/etc/passwd": passwd, "/etc/shadow": shadow})
    findings = run_check(CHECK, root)
    assert {f.details["account"] for f in findings} == {"toor", "halt"}
    assert all(f.category == "configuration" and f.severity == Severity.LOW for f in findings)


def test_service_account_with_password_and_shell(tmp_path: Path) -> None:
    passwd = PASSWD.replace("ftp:*:55:55:ftp:/home/ftp:/bin/false", "ftp:x:55:55:ftp:/home/ftp:/bin/sh")
    shadow = SHADOW.replace("ftp:*:", "ftp:" + openssl_hash("-1", "whatever-x1") + ":")
    root = make_root(tmp_path / "r", {"/etc/passwd": passwd, "/etc/shadow": shadow})
    (f,) = run_check(CHECK, root)
    assert (f.category, f.severity, f.details["account"]) == ("hidden-account", Severity.HIGH, "ftp")


def test_passwd_field_hash_and_backups(tmp_path: Path) -> None:
    # A UID 0 account whose hash sits in passwd itself; a backup file is not read at login.
    h = openssl_hash("-1", "zyad1234")
    root = make_root(
        tmp_path / "r",
        {
            "/etc/passwd": PASSWD + f"zyfwp:{h}:0:0::/:/bin/sh\n",
            "/etc/passwd-": PASSWD + "old:x:0:0::/:/bin/sh\n",
            "/etc/shadow-": SHADOW + "old::19358::::::\n",
        },
    )
    (f,) = run_check(CHECK, root)
    assert f.details["account"] == "zyfwp" and f.category == "hidden-account"
    assert len(f.evidence) == 1 and f.evidence[0].path == "/etc/passwd"
