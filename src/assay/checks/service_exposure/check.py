"""Restricted reachability (TS 33.117 4.3.2.2): boot services listening on every interface."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from assay.analysis.initsystem import Listener, shared_boot_model
from assay.checks.base import Check, CheckContext, evidence_at
from assay.model import Finding, Severity

_ADDR_FLAGS = ("-b", "-a", "-l", "--listen", "--bind", "-i")
_ALL = {"0.0.0.0", "::", "[::]", "*", "0"}


def _bound_address(lst: Listener) -> str | None:
    """The address the command line binds to, or None when it binds to all interfaces."""
    args = list(lst.command.args)
    for i, a in enumerate(args):
        value = None
        if a in _ADDR_FLAGS and i + 1 < len(args):
            value = args[i + 1]
        elif a.startswith("-p") and ":" in a[2:]:
            value = a[2:]
        elif a == "-p" and i + 1 < len(args) and ":" in args[i + 1]:
            value = args[i + 1]
        if value:
            host = re.sub(r":\d+$", "", value).strip("[]")
            if host and host not in _ALL:
                return host
    if lst.command.names & {"tcpsvd", "udpsvd"}:
        pos = [a for a in args if not a.startswith("-")]
        if pos and pos[0] not in _ALL:
            return pos[0]
    return None


def _run(ctx: CheckContext) -> Iterable[Finding]:
    seen: set[tuple[str, int, str, int]] = set()
    for lst in shared_boot_model(ctx.memo, ctx.index).listeners():
        bound = _bound_address(lst)
        if bound is not None:
            try:
                if ipaddress.ip_address(bound).is_loopback:
                    continue
            except ValueError:
                pass  # an interface name: restricted
            continue
        cmd = lst.command
        key = (cmd.source, cmd.offset, lst.protocol, lst.port)
        if key in seen:
            continue
        seen.add(key)
        source = ctx.index.get(cmd.source)
        if source is None:
            continue
        data = ctx.index.read(source, 1 << 20)
        yield CHECK.finding(
            cmd.source,
            f"{lst.program} listens on {lst.protocol}/{lst.port} on every interface",
            [evidence_at(source, data, cmd.offset, cmd.length, note="no bind address on the command line")],
            details={"program": lst.program, "port": lst.port, "protocol": lst.protocol},
        )


CHECK = Check(
    id="service-exposure",
    category="service-exposure",
    severity=Severity.LOW,
    title="Service reachable on every interface",
    description="A service started at boot listens without a bind address or interface, so it answers on WAN as well as on the management network unless a firewall stops it.",
    clause="4.3.2.2",
    references=("https://www.3gpp.org/ftp/Specs/archive/33_series/33.117/",),
    false_positives="Services restricted by firewall rules or by their own configuration files rather than command-line flags.",
    run=_run,
)
