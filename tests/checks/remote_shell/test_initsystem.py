"""The boot model others reuse: what starts, from where, through which files, on which ports."""

from __future__ import annotations

from pathlib import Path

from assay.analysis.initsystem import BootModel, boot_model, is_shell
from assay.index import build_index
from assay.unpack import index_directory

ELF = Path("/bin/true").read_bytes()


def model(root: Path, files: dict[str, str | bytes], links: dict[str, str] | None = None) -> BootModel:
    for path, content in files.items():
        host = root / path.lstrip("/")
        host.parent.mkdir(parents=True, exist_ok=True)
        host.write_bytes(content.encode() if isinstance(content, str) else content)
        host.chmod(0o755)
    for path, target in (links or {}).items():
        host = root / path.lstrip("/")
        host.parent.mkdir(parents=True, exist_ok=True)
        host.symlink_to(target)
    return boot_model(build_index([index_directory(root, "fs0")]))


def test_rcs_without_inittab_sourcing_heredoc_and_defaults(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "/bin/busybox": ELF,
        "/etc/default/svc": 'SVC_PORT=2222\nSVC_OPTS="-R"\n',
        "/etc/init.d/rcS": (
            "#!/bin/sh\n"
            ". /etc/default/svc\n"
            "cat > /tmp/x.conf <<EOF\n"
            "telnetd -l /bin/sh\n"
            "EOF\n"
            'dropbear ${SVC_OPTS} -p "${SVC_PORT:-22}" &\n'
            "httpd -p ${HTTP_PORT:-8080} -h /www\n"
        ),
    }
    links = {"/usr/sbin/dropbear": "/bin/busybox", "/usr/sbin/httpd": "/bin/busybox", "/bin/cat": "busybox"}
    m = model(tmp_path, files, links)
    progs = [c.program for c in m.commands]
    assert "telnetd" not in progs, "here-document bodies are data, not commands"
    dropbear = next(m.by_program("dropbear"))
    assert dropbear.argv == ("dropbear", "-R", "-p", "2222") and dropbear.background
    assert dropbear.enabled and dropbear.origin == "rc" and dropbear.source == "/etc/init.d/rcS"
    assert dropbear.executable is not None and dropbear.executable.path == "/bin/busybox"
    assert dropbear.line == 6
    ports = {(lst.program, lst.port, lst.protocol) for lst in m.listeners()}
    assert ports == {("dropbear", 2222, "tcp"), ("httpd", 8080, "tcp")}
    assert m.scripts["/etc/init.d/rcS"].enabled


def test_inittab_chain_cron_and_inetd(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "/bin/busybox": ELF,
        "/etc/inittab": "::sysinit:/etc/init.d/rcS\n::respawn:/sbin/getty -L ttyS0 115200\n",
        "/etc/init.d/rcS": "#!/bin/sh\nfor i in /etc/init.d/S??*; do $i start; done\n",
        "/etc/init.d/S80cron": "#!/bin/sh\ncrond -c /etc/crontabs\n",
        "/etc/init.d/S90inetd": "#!/bin/sh\ninetd\n",
        "/etc/crontabs/root": "PATH=/usr/sbin:/bin\n0 3 * * * /usr/sbin/job.sh nightly\n",
        "/usr/sbin/job.sh": '#!/bin/sh\nlogger -t job "$1"\n',
        "/etc/services": "telnet\t\t23/tcp\nftp 21/tcp\n",
        "/etc/inetd.conf": "telnet stream tcp nowait root /usr/sbin/telnetd telnetd -i\n#ftp stream tcp nowait root /usr/sbin/ftpd ftpd\n",
    }
    links = {f"/usr/sbin/{a}": "/bin/busybox" for a in ("crond", "inetd", "telnetd", "logger")}
    links["/sbin/getty"] = "/bin/busybox"
    m = model(tmp_path, files, links)
    crond = next(m.by_program("crond"))
    assert crond.via == ("/etc/inittab", "/etc/init.d/rcS") and crond.source == "/etc/init.d/S80cron"
    logger = next(m.by_program("logger"))
    assert logger.origin == "cron" and logger.argv[-1] == "nightly" and logger.enabled
    assert logger.via == ("/etc/crontabs/root",)
    job = next(c for c in m.commands if c.source == "/etc/crontabs/root")
    assert job.context["schedule"] == "0 3 * * *" and job.context["user"] == "root"
    telnet = [c for c in m.commands if c.origin == "inetd"]
    assert len(telnet) == 1 and telnet[0].context["port"] == "23" and telnet[0].enabled
    assert ("telnetd", 23, "tcp") in {(lst.program, lst.port, lst.protocol) for lst in m.listeners()}
    getty = next(m.by_program("getty"))
    assert getty.context["action"] == "respawn" and getty.origin == "inittab"


def test_procd_append_and_functions(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "/bin/busybox": ELF,
        "/etc/inittab": "::sysinit:/etc/init.d/rcS S boot\n",
        "/etc/init.d/rcS": "#!/bin/sh\nfor i in /etc/rc.d/$1*; do $i $2; done\n",
        "/etc/init.d/svc": (
            "#!/bin/sh /etc/rc.common\n"
            "start_service() {\n"
            "  procd_open_instance\n"
            "  procd_set_param command /usr/sbin/svcd -f\n"
            "  procd_append_param command -p 9000\n"
            "  procd_close_instance\n"
            "}\n"
            "stop_service() {\n"
            "  /usr/sbin/svcd --kill\n"
            "}\n"
        ),
        "/usr/sbin/svcd": ELF,
    }
    m = model(tmp_path, files, {"/etc/rc.d/S20svc": "../init.d/svc"})
    cmds = [c for c in m.commands if c.program == "svcd"]
    started = [c for c in cmds if c.enabled]
    assert [c.argv for c in started] == [("/usr/sbin/svcd", "-f", "-p", "9000")]
    assert started[0].origin == "procd"
    assert [c.argv for c in cmds if not c.enabled] == [("/usr/sbin/svcd", "--kill")]


def test_is_shell() -> None:
    assert is_shell("/bin/sh") and is_shell("-/bin/ash") and is_shell("bash")
    assert not is_shell("/bin/login") and not is_shell("/usr/sbin/sshd")
