"""weak-password-hash: broken schemes and plaintext are weak-crypto findings; strong ones pass."""

from __future__ import annotations

import sys
from pathlib import Path

from passlib.hash import bcrypt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from accounts_helpers import PASSWD, SHADOW, assert_evidence_matches, make_root, openssl_hash, run_check  # noqa: E402

from assay.checks.weak_password_hash.check import CHECK  # noqa: E402
from assay.model import Severity  # noqa: E402


def test_weak_and_strong_schemes(tmp_path: Path) -> None:
    users = {
        "des": openssl_hash("-crypt", "Xk8#pq2L", salt="Qz"),
        "md5": openssl_hash("-1", "Xk8#pq2L-long"),
        "sha512": openssl_hash("-6", "Xk8#pq2L-long"),
        "sha256": openssl_hash("-5", "Xk8#pq2L-long"),
        "bc": bcrypt.using(rounds=4).hash("Xk8#pq2L-long"),
        "locked": "!" + openssl_hash("-1", "x"),
    }
    passwd = PASSWD + "".join(f"{u}:x:{1000 + i}:100::/home/{u}:/bin/sh\n" for i, u in enumerate(users))
    shadow = SHADOW + "".join(f"{u}:{h}:19358::::::\n" for u, h in users.items())
    root = make_root(tmp_path / "r", {"/etc/passwd": passwd, "/etc/shadow": shadow})
    found = {f.details["account"]: f for f in run_check(CHECK, root)}
    assert set(found) == {"des", "md5"}
    assert found["des"].severity == Severity.HIGH and found["md5"].severity == Severity.MEDIUM
    assert all(f.category == "weak-crypto" and f.clause == "4.2.3.2.3" for f in found.values())
    assert_evidence_matches(root, found["des"])


def test_plaintext_and_unsalted_in_stores(tmp_path: Path) -> None:
    files = {
        "/etc/config/webui": "config login 'admin'\n\toption username 'admin'\n\toption password 'Zq9!long-pass'\n",
        "/etc/device.conf": "admin_user=root\nadmin_password_md5=5f4dcc3b5aa765d61d8327deb882cf99\n",
        "/etc/config/system": "config system\n\toption hostname 'OpenWrt'\n",
    }
    root = make_root(tmp_path / "r", files)
    found = {f.path: f for f in run_check(CHECK, root)}
    assert set(found) == {"/etc/config/webui", "/etc/device.conf"}
    assert found["/etc/config/webui"].details["hash_scheme"] == "plaintext"
    assert found["/etc/device.conf"].details["hash_scheme"] == "raw-md5"
    assert found["/etc/device.conf"].details["account"] == "root"
