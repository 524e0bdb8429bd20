"""root-login: sshd_config, dropbear command lines and UCI, telnet with /etc/securetty."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from accounts_helpers import assert_evidence_matches, make_root, run_check  # noqa: E402

from assay.checks.root_login.check import CHECK  # noqa: E402
from assay.model import Severity  # noqa: E402


def test_sshd_config(tmp_path: Path) -> None:
    root = make_root(
        tmp_path / "r",
        {
            "/etc/ssh/sshd_config": "# PermitRootLogin no\nPort 22\nPermitRootLogin yes\nPermitEmptyPasswords yes\n"
            "Match User backup\n  PermitRootLogin no\n",
        },
    )
    findings = run_check(CHECK, root)
    assert sorted(f.details["setting"] for f in findings) == ["PermitEmptyPasswords", "PermitRootLogin"]
    for f in findings:
        assert f.path == "/etc/ssh/sshd_config" and f.category == "configuration"
        assert_evidence_matches(root, f)
    assert next(f for f in findings if f.details["setting"] == "PermitRootLogin").evidence[0].line == 3


def test_sshd_safe_and_unset(tmp_path: Path) -> None:
    safe = make_root(tmp_path / "a", {"/etc/ssh/sshd_config": "PermitRootLogin prohibit-password\n"})
    assert run_check(CHECK, safe) == []
    old = make_root(tmp_path / "b", {"/etc/ssh/sshd_config": "Port 22\n", "/usr/sbin/sshd": b"x"})
    (f,) = run_check(CHECK, old)  # version unknown: reported, at low
    assert f.severity == Severity.LOW and f.details["value"] is None


def test_dropbear_command_lines(tmp_path: Path) -> None:
    root = make_root(
        tmp_path / "r",
        {
            "/etc/init.d/S50dropbear": "#!/bin/sh\nDB=/usr/sbin/dropbear\n[ -x $DB ] || exit 0\n$DB -p 22 -R\n",
            "/etc/init.d/S51ssh2": "#!/bin/sh\n/usr/sbin/dropbear -Fw -p 2222 &\n",
            "/etc/init.d/S52ssh3": "#!/bin/sh\nstart-stop-daemon -S -x /usr/sbin/dropbear -- -g -p 2022\n",
            "/etc/inittab": "::respawn:/usr/sbin/dropbear -F -p 23 -r /etc/dropbear/key -w\n",
        },
    )
    found = {f.path: f for f in run_check(CHECK, root)}
    assert set(found) == {"/etc/init.d/S50dropbear", "/etc/init.d/S52ssh3"}
    assert found["/etc/init.d/S50dropbear"].severity == Severity.MEDIUM
    assert found["/etc/init.d/S50dropbear"].evidence[0].line == 4
    assert found["/etc/init.d/S52ssh3"].severity == Severity.LOW  # -g: root by key only


def test_dropbear_uci(tmp_path: Path) -> None:
    allowed = make_root(tmp_path / "a", {"/etc/config/dropbear": "config dropbear\n\toption Port '22'\n"})
    (f,) = run_check(CHECK, allowed)
    assert f.path == "/etc/config/dropbear" and f.details["password_auth"] is True
    denied = make_root(tmp_path / "b", {"/etc/config/dropbear": "config dropbear\n\toption RootLogin '0'\n"})
    assert run_check(CHECK, denied) == []


def test_telnet_and_securetty(tmp_path: Path) -> None:
    rcs = "#!/bin/sh\ntelnetd -l /bin/login\n"
    (f,) = run_check(CHECK, make_root(tmp_path / "a", {"/etc/init.d/rcS": rcs}))
    assert f.details["service"] == "telnet" and "securetty" in f.title
    tty = make_root(tmp_path / "b", {"/etc/init.d/rcS": rcs, "/etc/securetty": "console\nttyS0\n"})
    assert run_check(CHECK, tty) == []
    pts = make_root(tmp_path / "c", {"/etc/init.d/rcS": rcs, "/etc/securetty": "console\npts/0\n"})
    (g,) = run_check(CHECK, pts)
    assert len(g.evidence) == 2 and g.evidence[1].path == "/etc/securetty"
    shell = make_root(tmp_path / "d", {"/etc/init.d/rcS": "#!/bin/sh\ntelnetd -l /bin/sh\n"})
    assert run_check(CHECK, shell) == []  # a remote shell, not a root login: another check's finding
