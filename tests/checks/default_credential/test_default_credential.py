"""default-credential: real hashes (openssl, passlib) in tmp root filesystems."""

from __future__ import annotations

import base64
import hashlib
import secrets
import sys
import time
from pathlib import Path

import pytest
from passlib.hash import bcrypt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from accounts_helpers import (  # noqa: E402
    PASSWD,
    SHADOW,
    assert_evidence_matches,
    make_root,
    openssl_hash,
    run_check,
)

from assay.analysis.accounts import Scheme  # noqa: E402
from assay.checks.default_credential.check import CHECK, load_wordlist  # noqa: E402
from assay.checks.default_credential.crack import Target, crack, verify  # noqa: E402
from assay.model import Severity  # noqa: E402

FAST = {"crack_seconds": 10}


def shadow_with(line: str) -> str:
    return line + "\n" + "".join(SHADOW.splitlines(keepends=True)[1:])


@pytest.mark.parametrize(
    ("flag", "password", "scheme"),
    [
        ("-1", "support", "md5"),
        ("-5", "admin", "sha256"),
        ("-6", "admin", "sha512"),
        ("-crypt", "12345", "des"),
    ],
)
def test_cracks_shadow_hash(tmp_path: Path, flag: str, password: str, scheme: str) -> None:
    h = openssl_hash(flag, password)
    root = make_root(
        tmp_path / "r", {"/etc/passwd": PASSWD, "/etc/shadow": shadow_with(f"root:{h}:19358:0:99999:7:::")}
    )
    findings = run_check(CHECK, root, FAST)
    assert len(findings) == 1
    f = findings[0]
    assert (f.category, f.path, f.severity) == ("default-credential", "/etc/shadow", Severity.CRITICAL)
    assert f.details["password"] == password and f.details["hash_scheme"] == scheme
    assert f.details["account"] == "root" and f"'{password}'" in f.title
    assert f.evidence[0].line == 1 and h in (f.evidence[0].excerpt or "")
    assert_evidence_matches(root, f)


def test_passwd_field_hash_without_shadow(tmp_path: Path) -> None:
    h = openssl_hash("-crypt", "root", salt="ab")
    passwd = PASSWD.replace("root:x:", f"root:{h}:")
    root = make_root(tmp_path / "r", {"/etc/passwd": passwd})
    (f,) = run_check(CHECK, root, FAST)
    assert f.path == "/etc/passwd" and f.details["password"] == "root" and f.details["hash_scheme"] == "des"
    assert_evidence_matches(root, f)


def test_bcrypt(tmp_path: Path) -> None:
    h = bcrypt.using(rounds=4, ident="2b").hash("admin")
    passwd = PASSWD + "admin:x:1000:1000::/home/admin:/bin/sh\n"
    shadow = SHADOW + f"admin:{h}:19358:0:99999:7:::\n"
    root = make_root(tmp_path / "r", {"/etc/passwd": passwd, "/etc/shadow": shadow})
    (f,) = run_check(CHECK, root, FAST)
    assert f.details["account"] == "admin" and f.details["hash_scheme"] == "bcrypt"
    assert f.severity == Severity.HIGH  # not UID 0


def test_strong_password_locked_and_nologin_are_not_findings(tmp_path: Path) -> None:
    strong = openssl_hash("-1", secrets.token_urlsafe(12))
    weak_locked = "!" + openssl_hash("-1", "admin")
    passwd = PASSWD + "svc:x:0:0::/:/bin/sh\nbackup::34:34:backup:/var/backups:/usr/sbin/nologin\n"
    passwd += "ghost:x:1001:1001::/home/ghost:/bin/sh\n"  # 'x' with no shadow line: cannot log in
    shadow = shadow_with(f"root:{strong}:19358:0:99999:7:::") + f"svc:{weak_locked}:19358::::::\n"
    root = make_root(tmp_path / "r", {"/etc/passwd": passwd, "/etc/shadow": shadow})
    assert run_check(CHECK, root, FAST) == []


def test_empty_password_only_for_login_accounts(tmp_path: Path) -> None:
    passwd = PASSWD.replace("daemon:*:", "daemon::")  # empty, but /bin/false
    shadow = shadow_with("root::0:0:99999:7:::")
    root = make_root(tmp_path / "r", {"/etc/passwd": passwd, "/etc/shadow": shadow})
    (f,) = run_check(CHECK, root, FAST)
    assert f.path == "/etc/shadow" and f.details["account"] == "root" and f.details["password"] == ""
    assert "empty password" in f.title and f.severity == Severity.CRITICAL
    assert_evidence_matches(root, f)


def test_backup_with_same_hash_adds_evidence(tmp_path: Path) -> None:
    h = openssl_hash("-1", "admin")
    shadow = shadow_with(f"root:{h}:19358:0:99999:7:::")
    root = make_root(
        tmp_path / "r",
        {"/etc/passwd": PASSWD, "/etc/shadow": shadow, "/etc/passwd-": PASSWD, "/etc/shadow-": shadow},
    )
    (f,) = run_check(CHECK, root, FAST)
    assert f.path == "/etc/shadow"
    assert [e.path for e in f.evidence] == ["/etc/shadow", "/etc/shadow-"]


UCI = """
config login 'admin'
\toption username 'admin'
\toption password 'password'
\t# option password 'commented'

config interface 'wan'
\toption proto 'pppoe'
\toption username ''
\toption password ''

config service 'ddns'
\toption username 'me'
\toption password '$PASSWORD'
"""


def test_uci_plaintext_and_placeholders(tmp_path: Path) -> None:
    root = make_root(tmp_path / "r", {"/etc/passwd": PASSWD, "/etc/shadow": SHADOW, "/etc/config/webui": UCI})
    (f,) = run_check(CHECK, root, FAST)
    assert (f.path, f.details["account"], f.details["password"]) == ("/etc/config/webui", "admin", "password")
    assert f.details["store"] == "uci" and f.evidence[0].line == 4
    assert_evidence_matches(root, f)


def test_uci_hashes_empty_and_unknown(tmp_path: Path) -> None:
    weak = openssl_hash("-1", "admin")
    strong = openssl_hash("-1", secrets.token_urlsafe(12))
    uci = (
        f"config login 'a'\n\toption username 'admin'\n\toption password '{weak}'\n\n"
        f"config login 'b'\n\toption username 'ops'\n\toption password '{strong}'\n\n"
        "config login 'c'\n\toption username 'viewer'\n\toption password ''\n\n"
        "config login 'd'\n\toption username 'x'\n\toption password_hash 'sm1$abcdefgh$0123abcd'\n"
    )
    root = make_root(tmp_path / "r", {"/etc/config/users": uci})
    found = {f.details["account"]: f for f in run_check(CHECK, root, FAST)}
    assert set(found) == {"admin", "viewer"}
    assert found["admin"].details["password"] == "admin" and found["admin"].details["hash_scheme"] == "md5"
    assert found["viewer"].details["password"] == "" and "Empty password" in found["viewer"].title


def test_nvram_and_web_stores(tmp_path: Path) -> None:
    apr = openssl_hash("-apr1", "password")
    strong = "{SHA}" + base64.b64encode(hashlib.sha1(secrets.token_bytes(12)).digest()).decode()
    files = {
        "/etc/nvram.default": b"lan_ipaddr=192.168.1.1\x00http_username=admin\x00http_passwd=admin\x00wl0_wpa_psk=12345678\x00",
        "/www/.htpasswd": f"admin:{apr}\nops:{strong}\n",
        "/etc/httpd.conf": "A:*\n/cgi-bin:root:toor\n",
        "/etc/lighttpd/lighttpd.htdigest": "admin:realm:" + _htdigest("admin", "realm", "1234") + "\n",
        "/usr/share/doc/app/example.conf": "username=admin\npassword=admin\n",
        "/etc/app.conf": "# password=admin\nuser=svc\npassword=${PASS}\n",
    }
    root = make_root(tmp_path / "r", files)
    found = {f.path: f for f in run_check(CHECK, root, FAST)}
    assert set(found) == {
        "/etc/nvram.default",
        "/www/.htpasswd",
        "/etc/httpd.conf",
        "/etc/lighttpd/lighttpd.htdigest",
    }
    assert found["/etc/nvram.default"].details["password"] == "admin"
    assert found["/www/.htpasswd"].details["hash_scheme"] == "apr1"
    assert found["/etc/httpd.conf"].details["account"] == "root"
    assert found["/etc/lighttpd/lighttpd.htdigest"].details["password"] == "1234"
    for f in found.values():
        assert_evidence_matches(root, f)


def _htdigest(user: str, realm: str, password: str) -> str:
    return hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()


def test_budget_stops_promptly(tmp_path: Path) -> None:
    lines = [f"u{i}:x:{1000 + i}:1000::/home/u{i}:/bin/sh\n" for i in range(4)]
    hashes = [openssl_hash("-6", secrets.token_urlsafe(12)) for _ in range(4)]
    root = make_root(
        tmp_path / "r",
        {
            "/etc/passwd": PASSWD + "".join(lines),
            "/etc/shadow": SHADOW + "".join(f"u{i}:{h}:19358::::::\n" for i, h in enumerate(hashes)),
        },
    )
    t0 = time.monotonic()
    assert run_check(CHECK, root, {"crack_seconds": 0.5, "crack_workers": 2}) == []
    assert time.monotonic() - t0 < 4.0


def test_crack_engine_orders_and_skips() -> None:
    words = load_wordlist()
    cands = words.candidates("root")
    assert cands[0] == "root" and "" in cands[:3]
    assert len(cands) == len(set(cands)) and "admin" in cands
    md5 = Target(Scheme.MD5, openssl_hash("-1", "xc3511"), "root")
    slow = Target(Scheme.BCRYPT, "$2b$31$" + "a" * 53, "root")
    out = crack([(md5, cands), (slow, cands)], budget=5.0, workers=1)
    assert out[0].password == "xc3511" and out[0].tried == cands.index("xc3511") + 1
    assert out[1].password is None and out[1].skipped and out[1].tried == 0
    assert verify(Target(Scheme.RAW_SHA1, "d033e22ae348aeb5660fc2140aec35850c4da997"), "admin")
    assert not verify(Target(Scheme.RAW_MD5, "0" * 32), "admin")


def test_pooled_cracking_finds_late_candidate() -> None:
    words = load_wordlist()
    cands = words.candidates(None)
    pw = cands[300]
    t = Target(Scheme.MD5, openssl_hash("-1", pw))
    # Enough md5crypt work to go through the process pool.
    decoys = [(Target(Scheme.MD5, openssl_hash("-1", secrets.token_urlsafe(10))), cands) for _ in range(2)]
    out = crack([(t, cands), *decoys], budget=20.0, workers=2)
    assert out[0].password == pw
    assert out[1].password is None and out[1].complete


def test_quick_depth_caps_slow_hashes_full_depth_tries_all(tmp_path: Path) -> None:
    words = load_wordlist()
    late = words.candidates("root")[1500]  # far beyond a quick scan's share for sha512crypt
    early = words.candidates("admin")[20]
    shadow = shadow_with(f"root:{openssl_hash('-6', late)}:19358:0:99999:7:::")
    shadow += f"admin:{openssl_hash('-6', early)}:19358:0:99999:7:::\n"
    passwd = PASSWD + "admin:x:0:0::/root:/bin/sh\n"
    root = make_root(tmp_path / "r", {"/etc/passwd": passwd, "/etc/shadow": shadow})
    quick = run_check(CHECK, root, {"crack_seconds": 60})
    assert {f.details["account"]: f.details["password"] for f in quick} == {"admin": early}
    full = run_check(CHECK, root, {"crack_seconds": 60, "crack_depth": "full"})
    assert {f.details["account"]: f.details["password"] for f in full} == {"admin": early, "root": late}
