"""phone-home: hard-coded external endpoints that the device's own code contacts.

Two kinds of evidence count. A script or crontab line started at boot or from cron that hands a
public host to a network client (wget, curl, nc, tftp ...); the path is the file holding it. A vendor
program (not a library, not a well-known open-source tool) that imports client network APIs
(connect with getaddrinfo/gethostbyname/inet_*, libcurl, SSL_connect ...) and holds a public
host or URL; the path is that program. HTML, certificates and libraries are never read for this.
"""

from __future__ import annotations

import io
import posixpath
import re
from collections.abc import Iterator

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from assay.analysis.initsystem import BootCommand, BootModel, shared_boot_model
from assay.checks.base import Check, CheckContext, evidence_at
from assay.checks.phone_home.endpoints import Endpoint, documentation_context, find_endpoints
from assay.index import FileEntry
from assay.index.strings import ascii_strings
from assay.model import Evidence, Finding, Severity

# Programs that move data to or from a remote host when given one on the command line.
NET_CLIENTS = frozenset(
    {
        "wget",
        "curl",
        "uclient-fetch",
        "fetch",
        "lftp",
        "ftp",
        "tftp",
        "ftpget",
        "ftpput",
        "nc",
        "netcat",
        "ncat",
        "socat",
        "telnet",
        "scp",
        "sftp",
        "ssh",
        "dbclient",
        "rsync",
        "openssl",
        "mosquitto_pub",
        "mosquitto_sub",
        "sendmail",
        "httpget",
        "http_get",
        "busybox-wget",
    }
)
_EXEC_SINKS = frozenset({"sh", "ash", "bash", "dash", "hush", "ksh", "zsh", "source", "."})
# Open-source programs whose strings hold project, documentation and default URLs.
KNOWN_TOOLS = frozenset(
    {
        "busybox",
        "toybox",
        "curl",
        "wget",
        "openssl",
        "dropbear",
        "dropbearkey",
        "dbclient",
        "dropbearconvert",
        "dnsmasq",
        "lighttpd",
        "uhttpd",
        "nginx",
        "httpd-apache",
        "ntpd",
        "ntpclient",
        "ntpdate",
        "chronyd",
        "openvpn",
        "hostapd",
        "wpa_supplicant",
        "pppd",
        "iptables",
        "ip6tables",
        "ip",
        "tc",
        "ssh",
        "sshd",
        "scp",
        "sftp-server",
        "udhcpc",
        "udhcpd",
        "odhcpd",
        "odhcp6c",
        "miniupnpd",
        "igmpproxy",
        "avahi-daemon",
        "smbd",
        "nmbd",
        "vsftpd",
        "proftpd",
        "tcpdump",
        "mosquitto",
        "strace",
        "gdb",
        "gdbserver",
        "uclient-fetch",
        "opkg",
        "ubusd",
        "procd",
        "netifd",
        "rpcd",
        "logd",
        "hotplug2",
        "mdev",
        "syslogd",
        "klogd",
        "crond",
        "inetd",
        "xinetd",
        "tftpd",
        "snmpd",
        "zebra",
        "bgpd",
        "ospfd",
        "quagga",
        "bird",
        "unbound",
        "named",
        "dig",
        "nslookup",
        "ping",
        "traceroute",
        "iw",
        "iwconfig",
        "ethtool",
        "bridge",
        "brctl",
        "ebtables",
        "nft",
        "conntrack",
        "ipset",
        "stunnel",
        "haproxy",
        "squid",
        "privoxy",
        "tor",
        "transmission-daemon",
        "samba",
        "rsync",
        "lua",
        "python",
        "python3",
        "perl",
        "php",
        "php-cgi",
        "node",
    }
)
# Client-side network imports: something that opens connections, and something that names a peer.
_CONNECT = frozenset(
    {
        "connect",
        "sendto",
        "sendmsg",
        "curl_easy_perform",
        "curl_easy_setopt",
        "curl_multi_perform",
        "SSL_connect",
        "mosquitto_connect",
        "MQTTClient_connect",
        "uclient_connect",
        "ustream_ssl_init",
        "http_client_request",
    }
)
_RESOLVE = frozenset(
    {
        "getaddrinfo",
        "gethostbyname",
        "gethostbyname_r",
        "gethostbyname2",
        "gethostbyname2_r",
        "res_query",
        "res_search",
        "curl_easy_setopt",
        "mosquitto_connect",
        "MQTTClient_create",
        "uclient_new",
    }
)
_IP_PARSE = frozenset({"inet_addr", "inet_aton", "inet_pton", "inet_network", "getaddrinfo"}) | _RESOLVE
_LIBRARY_NAME = re.compile(r"^lib.*\.so(\.\d+)*$|\.so(\.\d+)*$|\.ko$")
_NON_DEVICE = frozenset(
    {"html", "htm", "js", "css", "xml", "svg", "json", "md", "txt", "crt", "pem", "cer", "der"}
)
# Version banners that identify an open-source program whatever its file is called.
_KNOWN_TOOL_MARKERS = re.compile(
    rb"BusyBox v\d|Toybox \d|curl/\d|libcurl/\d|OpenSSL \d\.\d|Dropbear (sshd|SSH)|dnsmasq-\d|lighttpd/\d"
)
_HTTP_CLIENT_HINT = re.compile(rb"(?i)(GET|POST|PUT) [%/]|Host: %s|User-Agent:")
_MAX_ELF = 32 << 20
_MAX_EVIDENCE = 6


def _imports(data: bytes) -> frozenset[str] | None:
    """Undefined dynamic symbols; None for a static or unreadable ELF."""
    try:
        elf = ELFFile(io.BytesIO(data))
        dynsym = elf.get_section_by_name(".dynsym")
        if not isinstance(dynsym, SymbolTableSection):
            return None
        return frozenset(
            s.name.split("@")[0] for s in dynsym.iter_symbols() if s.name and s["st_shndx"] == "SHN_UNDEF"
        )
    except (ELFError, ValueError, KeyError, AttributeError, IndexError, TypeError, OSError):
        return None


def _library(entry: FileEntry) -> bool:
    if _LIBRARY_NAME.search(entry.name):
        return True
    elf = entry.elf
    # A shared object without an interpreter is a library, wherever it lives.
    return bool(elf and elf.elftype == "dyn" and not elf.interpreter and not entry.executable)


def _started(model: BootModel) -> dict[str, BootCommand]:
    """Programs and scripts the boot model runs, by path: what a daemon or cron job is."""
    out: dict[str, BootCommand] = {}
    for cmd in model.commands:
        if cmd.enabled and cmd.executable is not None:
            out.setdefault(cmd.executable.path, cmd)
    return out


def _how(cmd: BootCommand | None) -> str:
    if cmd is None:
        return "not started at boot"
    if cmd.origin == "cron":
        return f"run from cron ({cmd.context.get('schedule', '')})"
    return "started at boot"


def _elf_findings(ctx: CheckContext, model: BootModel) -> Iterator[Finding]:
    started = _started(model)
    for entry in ctx.index.elves():
        if not entry.is_file or entry.size > _MAX_ELF or _library(entry):
            continue
        if entry.name in KNOWN_TOOLS or entry.path in _multicall_targets(model):
            continue
        data = ctx.index.read(entry)
        if _KNOWN_TOOL_MARKERS.search(data):
            continue
        raw_strings = list(ascii_strings(data, 5))
        hits: list[tuple[int, str, Endpoint]] = []
        for off, raw in raw_strings:
            if b"." not in raw and b"://" not in raw:
                continue  # every public endpoint has a dot (or is a URL)
            s = raw.decode("ascii", "replace")
            for ep in find_endpoints(s):
                if ep.kind == "domain" and s.strip() != ep.text:
                    continue  # a bare name only counts as a whole string, not inside prose
                if ep.kind == "ip" and s.strip() != ep.text:
                    continue
                if documentation_context(s, ep):
                    continue
                hits.append((off + ep.start, s, ep))
        if hits:
            own = _own_names([(off, raw.decode("ascii", "replace")) for off, raw in raw_strings])
            hits = [h for h in hits if _registered_label(h[2].host) not in own]
        if not hits:
            continue
        imports = _imports(data)
        cmd = started.get(entry.path)
        if imports is None:
            # Static or stripped of dynamic symbols: trust it only when it runs and talks HTTP.
            if cmd is None or not _HTTP_CLIENT_HINT.search(data):
                continue
            apis: list[str] = ["(static binary with an HTTP client)"]
        else:
            connects = imports & _CONNECT
            names = imports & (_IP_PARSE if all(ep.is_ip for _, _, ep in hits) else _RESOLVE)
            if not connects or not (names or imports & {"curl_easy_setopt"}):
                continue
            apis = sorted(connects | names)
        severity = Severity.HIGH if cmd is not None else Severity.MEDIUM
        hosts = sorted({ep.host for _, _, ep in hits})
        evidence: list[Evidence] = [
            evidence_at(
                entry,
                data,
                off,
                len(ep.text),
                note=f"{ep.kind} endpoint {ep.host}",
                details={"host": ep.host, **({"port": ep.port} if ep.port else {})},
            )
            for off, _, ep in hits[:_MAX_EVIDENCE]
        ]
        yield CHECK.finding(
            entry.path,
            f"Program {entry.name} ({_how(cmd)}) contacts {', '.join(hosts[:3])}",
            evidence,
            severity=severity,
            details={
                "hosts": hosts,
                "network_apis": apis,
                "started": _how(cmd),
                **({"started_by": cmd.source} if cmd else {}),
            },
        )


_CREDIT = re.compile(r"(?i)copyright|\(c\)|written by|author|version|license|xmlns")
_XMLNS = re.compile(r"xmlns(?::\w+)?=\\?[\"']([^\"'\\]+)")


def _registered_label(host: str) -> str:
    """The label a project or company is known by: 'roaringpenguin' in www.roaringpenguin.com."""
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-2]) <= 3 and len(labels[-1]) == 2:
        return labels[-3]  # example.co.uk, example.com.cn
    return labels[-2] if len(labels) >= 2 else host


def _own_names(strings: list[tuple[int, str]]) -> set[str]:
    """Labels of the program's own author, project or XML namespaces: links to them are credits."""
    names: set[str] = set()
    credits = ""
    for _, s in strings:
        if _CREDIT.search(s):
            credits += re.sub(r"[^a-z0-9]", "", s.lower()) + "|"
        for ns in _XMLNS.findall(s):
            for ep in find_endpoints(ns):
                names.add(_registered_label(ep.host))
    for _, s in strings:
        for ep in find_endpoints(s):
            label = _registered_label(ep.host)
            if len(label) >= 5 and label in credits:
                names.add(label)
    return names


def _multicall_targets(model: BootModel) -> set[str]:
    return {
        c.executable.path
        for c in model.commands
        if c.executable is not None and c.executable.name == "busybox"
    }


def _client_endpoints(cmd: BootCommand) -> list[Endpoint]:
    out: list[Endpoint] = []
    for arg in cmd.args:
        # user@host and -connect host:port are the same host to a client.
        for ep in find_endpoints(arg.split("@")[-1] if "://" not in arg else arg):
            out.append(ep)
    return out


def _script_findings(ctx: CheckContext, model: BootModel) -> Iterator[Finding]:
    by_source: dict[str, list[tuple[BootCommand, list[Endpoint]]]] = {}
    for cmd in model.commands:
        if not cmd.enabled or not cmd.argv or not (cmd.names & NET_CLIENTS):
            continue
        if posixpath.splitext(cmd.source)[1].lstrip(".") in _NON_DEVICE:
            continue
        eps = _client_endpoints(cmd)
        if eps:
            by_source.setdefault(cmd.source, []).append((cmd, eps))
    for source, items in sorted(by_source.items()):
        entry = ctx.index.get(source)
        if entry is None:
            continue
        data = ctx.index.read(entry)
        evidence: list[Evidence] = []
        hosts: list[str] = []
        executes = False
        raw_ip = False
        for cmd, eps in items:
            executes = executes or any(
                p and posixpath.basename(p[0]) in _EXEC_SINKS for p in cmd.pipeline[1:]
            )
            for ep in eps:
                if ep.host not in hosts:
                    hosts.append(ep.host)
                raw_ip = raw_ip or ep.is_ip
            pos = data.find(eps[0].host.encode(), cmd.offset, cmd.offset + cmd.length)
            if pos < 0:
                # The host came from a variable: point at the command and at where it is defined.
                evidence.append(
                    evidence_at(
                        entry, data, cmd.offset, cmd.length, note=f"{cmd.program} contacts {eps[0].text}"
                    )
                )
                pos = data.find(eps[0].host.encode())
            if pos >= 0 and len(evidence) < _MAX_EVIDENCE:
                evidence.append(
                    evidence_at(
                        entry,
                        data,
                        pos,
                        len(eps[0].host),
                        note=f"{cmd.program} contacts {eps[0].host} ({_how(cmd)})",
                        details={"argv": list(cmd.argv), "origin": cmd.origin, "started_via": list(cmd.via)},
                    )
                )
        if not evidence:
            continue
        severity = Severity.HIGH if executes or raw_ip else Severity.MEDIUM
        what = "downloads and runs code from" if executes else "contacts"
        yield CHECK.finding(
            source,
            f"{'Cron job' if items[0][0].origin == 'cron' else 'Boot script'} {what} {', '.join(hosts[:3])}",
            evidence,
            severity=severity,
            details={"hosts": hosts, "started": _how(items[0][0])},
        )


def run(ctx: CheckContext) -> Iterator[Finding]:
    model = shared_boot_model(ctx.memo, ctx.index)
    yield from _script_findings(ctx, model)
    yield from _elf_findings(ctx, model)


CHECK = Check(
    id="phone-home",
    category="phone-home",
    severity=Severity.MEDIUM,
    title="Hard-coded external endpoint contacted by device code",
    description=(
        "Public IP literals, domains and URLs that the device's own code contacts: a boot or cron "
        "script that hands one to wget/curl/nc/tftp/ssh (high when it pipes the download into a shell "
        "or names a raw IP), or a vendor program that imports client network APIs (connect with "
        "getaddrinfo/gethostbyname/inet_*, libcurl, SSL_connect) and holds a public host (high when it "
        "is started at boot or from cron). Private, reserved, loopback, link-local, multicast and "
        "documentation addresses, dotted version numbers and OIDs, NTP/standards/resolver/root-server "
        "hosts, links in HTML and prose, libraries and well-known open-source tools are ignored."
    ),
    clause="4.3.2.4",
    references=(
        "https://cwe.mitre.org/data/definitions/912.html",
        "https://cwe.mitre.org/data/definitions/359.html",
    ),
    false_positives=(
        "Vendor cloud, update and DDNS services are reported as well: decide whether the device's "
        "documentation discloses them. A vendor program that only prints a URL but also uses "
        "connect() for another peer is reported as medium."
    ),
    run=run,
)
