"""remote-shell: services started at boot that hand out a shell over the network.

Reads the boot model (assay.analysis.initsystem): telnet daemons, netcat/socat exec shells, shells
on /dev/tcp, shell-and-netcat pipelines, shells behind inetd/xinetd/tcpsvd or a systemd socket.
Serial-console shells and SSH daemons are not remote shells.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from assay.analysis.initsystem import BootCommand, is_shell, shared_boot_model
from assay.checks.base import Check, CheckContext, evidence_at, evidence_of_file
from assay.model import Evidence, Finding, Severity

_TELNETD = re.compile(r"^(?:in\.|u|x|busybox-)?telnetd(?:[._-].*)?$")
_NETCAT = frozenset({"nc", "netcat", "ncat", "nc.traditional", "nc.openbsd", "pnetcat", "nc6"})
_NET_CLIENTS = _NETCAT | {"telnet", "socat", "openssl", "curl", "wget"}
_SUPERVISORS = frozenset({"tcpsvd", "udpsvd", "tcpserver", "ipsvd"})
# tcpsvd/tcpserver options that take a value.
_SUPERVISOR_VALUE_OPTS = frozenset("cCbulBxt")
_LOGIN_OPTS = ("-l", "-L", "-E", "--exec-login", "--login")
_LOOPBACK = re.compile(r"^(127\.|::1$|\[::1\]|localhost)")


@dataclass(frozen=True)
class _Hit:
    severity: Severity
    kind: str  # "telnet", "bind-shell", "reverse-shell", "socket-shell"
    title: str


def _base(word: str) -> str:
    return posixpath.basename(word.lstrip("-"))


def _opt_value(args: Sequence[str], opts: tuple[str, ...]) -> str | None:
    for i, a in enumerate(args):
        for o in opts:
            if a == o and i + 1 < len(args):
                return args[i + 1]
            if o.startswith("--") and a.startswith(o + "="):
                return a.split("=", 1)[1]
            if not o.startswith("--") and a.startswith(o) and len(a) > len(o):
                return a[len(o) :]
    return None


def _telnet(program: str, args: Sequence[str], where: str) -> _Hit | None:
    bind = _opt_value(args, ("-b",))
    if bind is not None and _LOOPBACK.match(bind):
        return None  # bound to loopback only: not reachable from the network
    login = _opt_value(args, _LOGIN_OPTS)
    if login is not None and is_shell(login.split()[0] if login.split() else login):
        return _Hit(
            Severity.CRITICAL,
            "telnet",
            f"{program} {where} hands out {login} without a password",
        )
    suffix = f" (login program {login})" if login else ""
    return _Hit(Severity.HIGH, "telnet", f"telnet daemon {program} {where}{suffix}")


def _exec_target(args: Sequence[str]) -> tuple[str, bool] | None:
    """netcat's program to run on the connection, and whether it listens."""
    flags = "".join(a[1:] for a in args if a.startswith("-") and not a.startswith("--"))
    listen = "l" in flags or "--listen" in args
    value = _opt_value(args, ("-e", "-c", "--exec", "--sh-exec", "--lua-exec"))
    if value is None or value.startswith("-") or not value.strip():
        return None
    first = value.split()[0]
    if is_shell(first) or first.startswith("/") or "sh" in _base(first):
        return value, listen
    return None


def _netcat(program: str, args: Sequence[str], where: str) -> _Hit | None:
    found = _exec_target(args)
    if found is None:
        return None
    target, listen = found
    shell = is_shell(target.split()[0])
    severity = Severity.CRITICAL if shell else Severity.HIGH
    if listen:
        port = _opt_value(args, ("-p",)) or next((a for a in args if a.isdigit()), "?")
        return _Hit(severity, "bind-shell", f"{program} bind shell on port {port} runs {target} {where}")
    peer = " ".join(a for a in args if not a.startswith("-") and a != target)
    return _Hit(severity, "reverse-shell", f"{program} reverse shell to {peer} runs {target} {where}")


_SOCAT_EXEC = re.compile(r"(?i)^(?:exec|system):['\"]?([^,'\"]+)")
_SOCAT_NET = re.compile(r"(?i)^(?:tcp|tcp4|tcp6|udp|udp4|udp6|sctp|openssl|ssl)(?:-listen|-l)?[:-]")


def _socat(args: Sequence[str], where: str) -> _Hit | None:
    exe = next((m.group(1) for a in args if (m := _SOCAT_EXEC.match(a))), None)
    net = next((a for a in args if _SOCAT_NET.match(a)), None)
    if exe is None or net is None:
        return None
    first = exe.split()[0]
    if is_shell(first):
        return _Hit(Severity.CRITICAL, "socket-shell", f"socat serves {exe} on {net} {where}")
    if _base(first) == "login":
        return _Hit(Severity.HIGH, "socket-shell", f"socat serves {exe} on {net} {where}")
    return None


def _supervised(args: Sequence[str]) -> tuple[str, list[str]] | None:
    """tcpsvd [opts] IP PORT PROG ARGS -> (PORT, [PROG, ARGS])."""
    i, rest = 0, list(args)
    while i < len(rest) and rest[i].startswith("-"):
        opt = rest[i]
        i += 2 if len(opt) == 2 and opt[1] in _SUPERVISOR_VALUE_OPTS else 1
    pos = rest[i:]
    if len(pos) < 3:
        return None
    return pos[1], pos[2:]


def _served(argv: Sequence[str], where: str) -> _Hit | None:
    """What a socket service runs: a shell is critical, a telnet daemon is a telnet service."""
    if not argv:
        return None
    prog = _base(argv[0])
    if is_shell(argv[0]):
        return _Hit(Severity.CRITICAL, "socket-shell", f"{argv[0]} served on a network socket {where}")
    if _TELNETD.match(prog):
        return _telnet(prog, argv[1:], where)
    return None


def _dev_tcp(cmd: BootCommand) -> bool:
    words = list(cmd.redirects) + list(cmd.args)
    return any(re.search(r"/dev/(tcp|udp)/[^/\s]+/\d+", w) for w in words)


def classify(cmd: BootCommand) -> _Hit | None:
    """The remote-shell risk of one boot command, if any."""
    names = cmd.names
    where = _where(cmd)
    ctx = cmd.context
    if cmd.origin in ("inetd", "xinetd"):
        hit = _served(
            cmd.argv, f"on {ctx.get('protocol', 'tcp')} port {ctx.get('port') or ctx.get('service')}"
        )
        if hit is None and ctx.get("service") == "telnet":
            hit = _telnet(cmd.program, cmd.args, f"on inetd service telnet {where}")
        return hit
    if cmd.origin == "systemd" and ctx.get("socket") and is_shell(cmd.argv[0]):
        return _Hit(Severity.CRITICAL, "socket-shell", f"{cmd.argv[0]} on systemd socket {ctx['socket']}")
    if any(_TELNETD.match(n) for n in names):
        return _telnet(cmd.program, cmd.args, where)
    if names & _NETCAT:
        hit = _netcat(cmd.program, cmd.args, where)
        if hit is not None:
            return hit
    if "socat" in names:
        return _socat(cmd.args, where)
    if names & _SUPERVISORS:
        sup = _supervised(cmd.args)
        if sup is not None:
            port, argv = sup
            return _served(argv, f"on port {port} via {cmd.program} {where}")
        return None
    if _dev_tcp(cmd) and (is_shell(cmd.argv[0]) or any(is_shell(p[0]) for p in cmd.pipeline if p)):
        return _Hit(Severity.CRITICAL, "reverse-shell", f"shell redirected to a network socket {where}")
    if is_shell(cmd.argv[0]) and len(cmd.pipeline) > 1:
        clients = [
            p
            for p in cmd.pipeline
            if p and _base(p[0]) in _NET_CLIENTS and _base(p[0]) not in ("curl", "wget")
        ]
        if clients:
            peer = " ".join(clients[0])
            return _Hit(
                Severity.CRITICAL, "reverse-shell", f"shell piped to the network through `{peer}` {where}"
            )
    return None


def _where(cmd: BootCommand) -> str:
    if cmd.origin == "cron":
        return f"from cron ({cmd.context.get('schedule', '')})"
    if cmd.origin == "inittab":
        return f"from inittab ({cmd.context.get('action', '')})"
    return "at boot"


def _evidence(ctx: CheckContext, cmd: BootCommand, cache: dict[str, bytes]) -> list[Evidence]:
    entry = ctx.index.get(cmd.source)
    if entry is None:
        return []
    data = cache.get(entry.path)
    if data is None:
        data = cache[entry.path] = ctx.index.read(entry)
    details = {
        "argv": list(cmd.argv),
        "origin": cmd.origin,
        "started_via": list(cmd.via),
        **{k: v for k, v in cmd.context.items()},
    }
    if cmd.length and cmd.offset + cmd.length <= len(data):
        ev = [evidence_at(entry, data, cmd.offset, cmd.length, note="started here", details=details)]
    else:
        ev = [
            Evidence(
                path=entry.path, sha256=entry.sha256 or "", line=cmd.line, excerpt=cmd.text, details=details
            )
        ]
    if cmd.executable is not None and cmd.executable.path != entry.path:
        exe = cmd.executable
        ev.append(evidence_of_file(exe, note=f"program that runs `{cmd.program}`"))
    return ev


def run(ctx: CheckContext) -> Iterator[Finding]:
    model = shared_boot_model(ctx.memo, ctx.index)
    cache: dict[str, bytes] = {}
    seen: set[tuple[str, int, str]] = set()
    for cmd in model.commands:
        if not cmd.enabled or not cmd.argv:
            continue
        hit = classify(cmd)
        if hit is None or (cmd.source, cmd.line, hit.kind) in seen:
            continue
        seen.add((cmd.source, cmd.line, hit.kind))
        evidence = _evidence(ctx, cmd, cache)
        if evidence:
            yield CHECK.finding(
                cmd.source, hit.title, evidence, severity=hit.severity, details={"kind": hit.kind}
            )


CHECK = Check(
    id="remote-shell",
    category="remote-shell",
    severity=Severity.CRITICAL,
    title="Network shell started at boot",
    description=(
        "Services the image starts at boot (inittab, rcS and the init scripts it runs, rc.d links, "
        "systemd units, procd, crontabs, inetd/xinetd) that give shell access over the network: any "
        "telnet daemon (high; critical when its login program is a shell, e.g. `telnetd -l /bin/sh`), "
        "netcat with -e/-c, socat EXEC/SYSTEM on a socket, shells redirected to /dev/tcp or piped "
        "through netcat/telnet, and shells served by inetd, xinetd, tcpsvd or a systemd socket. "
        "Variables, start-stop-daemon, busybox applets and scripts called by scripts are followed. "
        "The finding's path is the file that starts the service."
    ),
    clause="4.3.2.1",
    references=(
        "https://www.3gpp.org/ftp/Specs/archive/33_series/33.117/",
        "https://cwe.mitre.org/data/definitions/912.html",
        "https://cwe.mitre.org/data/definitions/319.html",
    ),
    false_positives=(
        "A telnet daemon bound to a non-routed management interface, or one the vendor starts only "
        "until a password is set (OpenWrt's telnet on first boot) is reported as high. Serial-console "
        "shells (inittab ttyS0 askfirst/respawn), SSH daemons and scripts nothing starts are not reported."
    ),
    run=run,
)
