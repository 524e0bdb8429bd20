"""Insecure or unnecessary services started at boot (TS 33.117 4.3.2.1): tftp, ftp, r-services, finger, debug daemons.

telnet and shells on sockets are the remote-shell check's; this one covers the rest of the clause.
"""

from __future__ import annotations

from collections.abc import Iterable

from assay.analysis.initsystem import BootCommand, shared_boot_model
from assay.checks.base import Check, CheckContext, evidence_at
from assay.model import Evidence, Finding, Severity

# program name -> (what it is, why it is insecure)
SERVICES: dict[str, tuple[str, str]] = {
    **dict.fromkeys(
        ("tftpd", "in.tftpd", "atftpd", "utftpd", "tftp-hpa"), ("TFTP server", "no authentication")
    ),
    **dict.fromkeys(
        ("ftpd", "vsftpd", "proftpd", "pure-ftpd", "bftpd", "in.ftpd", "wu-ftpd"),
        ("FTP server", "credentials and data in clear text"),
    ),
    **dict.fromkeys(
        ("rshd", "in.rshd", "rlogind", "in.rlogind", "rexecd", "in.rexecd"),
        ("Berkeley r-service", "host-based trust, clear text"),
    ),
    **dict.fromkeys(("fingerd", "in.fingerd", "efingerd"), ("finger server", "discloses user accounts")),
    **dict.fromkeys(("gdbserver",), ("remote debugger", "executes code sent over the network")),
    **dict.fromkeys(
        ("tddp",), ("TP-Link debug protocol daemon", "unauthenticated debug commands (CVE-2020-28347)")
    ),
    **dict.fromkeys(("snmpd",), ("SNMP agent", "v1/v2c community strings in clear text")),
}
_SERVERS_VIA = {"tcpsvd", "udpsvd", "tcpserver", "inetd", "xinetd"}


def _service_of(cmd: BootCommand) -> str | None:
    for name in cmd.names:
        if name in SERVICES:
            return name
    if cmd.names & _SERVERS_VIA:
        for arg in cmd.args:
            base = arg.rsplit("/", 1)[-1]
            if base in SERVICES:
                return base
    return None


def _run(ctx: CheckContext) -> Iterable[Finding]:
    model = shared_boot_model(ctx.memo, ctx.index)
    for cmd in model.commands:
        if not cmd.enabled:
            continue
        name = _service_of(cmd)
        if name is None:
            continue
        what, why = SERVICES[name]
        source = ctx.index.get(cmd.source)
        if source is None:
            continue
        data = ctx.index.read(source, 1 << 20)
        evidence: list[Evidence] = [
            evidence_at(source, data, cmd.offset, cmd.length, note=f"started at boot ({cmd.origin})")
        ]
        if cmd.executable is not None:
            evidence.append(
                Evidence(
                    path=cmd.executable.path, sha256=cmd.executable.sha256 or "", note="the program that runs"
                )
            )
        yield CHECK.finding(
            cmd.source,
            f"{what} started at boot: {name} ({why})",
            evidence,
            severity=Severity.MEDIUM if name == "snmpd" else Severity.HIGH,
            details={"program": name, "argv": list(cmd.argv), "origin": cmd.origin, "via": list(cmd.via)},
        )


CHECK = Check(
    id="insecure-service",
    category="insecure-service",
    severity=Severity.HIGH,
    title="Insecure or unnecessary service started at boot",
    description="TFTP, FTP, rsh/rlogin/rexec, finger, gdbserver, vendor debug daemons (tddp) and SNMP agents started from inittab, init scripts, systemd, procd, cron or inetd/xinetd.",
    clause="4.3.2.1",
    references=("https://www.3gpp.org/ftp/Specs/archive/33_series/33.117/",),
    false_positives="A service started at boot but firewalled off, or one the product needs (e.g. TFTP on a provisioning network).",
    run=_run,
)
