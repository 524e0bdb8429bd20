"""Security delta: what an update adds or removes that matters to an assessor.

Findings, component versions (and their CVEs), accounts, keys, boot services and listening ports.
Each item names the file it comes from so the reader can check it.
"""

from __future__ import annotations

import base64
import hashlib
import posixpath
import re
import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from assay.index import FileEntry, FileIndex
from assay.pipeline import Report

MAX_CONFIG_BYTES = 1 << 20
MAX_KEY_SCAN_BYTES = 8 << 20


def delta(
    old: Iterable[dict[str, Any]], new: Iterable[dict[str, Any]], key: tuple[str, ...]
) -> dict[str, Any]:
    """Items present on one side only, matched on the given fields."""
    a = {tuple(str(x.get(k)) for k in key): x for x in old}
    b = {tuple(str(x.get(k)) for k in key): x for x in new}
    return {
        "added": [b[k] for k in sorted(b.keys() - a.keys())],
        "removed": [a[k] for k in sorted(a.keys() - b.keys())],
    }


# ---------------------------------------------------------------- findings


def findings_delta(old: Report | None, new: Report | None) -> dict[str, Any]:
    """Matched on rule, path and category; ids hash the evidence bytes, so they move with any edit."""
    if old is None or new is None:
        return {"added": [], "removed": []}

    def rows(r: Report) -> list[dict[str, Any]]:
        return [
            {
                "rule": f.rule,
                "category": f.category,
                "severity": f.severity.value,
                "path": f.path,
                "title": f.title,
                "id": f.id,
            }
            for f in r.findings
        ]

    return delta(rows(old), rows(new), ("rule", "path", "category"))


# ---------------------------------------------------------------- components and CVEs


def _vuln_id(v: dict[str, Any]) -> str | None:
    for k in ("id", "cve", "vuln_id", "vulnerability"):
        if isinstance(v.get(k), str):
            return str(v[k])
    return None


def _vuln_component(v: dict[str, Any]) -> str | None:
    c = v.get("component")
    if isinstance(c, dict):
        c = c.get("name")
    if c is None:
        c = v.get("component_name") or v.get("package")
    return str(c).lower() if c else None


def components_delta(old: Report | None, new: Report | None) -> dict[str, Any]:
    """Version changes by component name, with the CVEs each change adds or fixes when known."""
    if old is None or new is None:
        return {"changed": [], "added": [], "removed": [], "vulnerabilities_known": False}
    va: dict[str, set[str | None]] = {}
    vb: dict[str, set[str | None]] = {}
    for c in old.components:
        va.setdefault(c.name.lower(), set()).add(c.version)
    for c in new.components:
        vb.setdefault(c.name.lower(), set()).add(c.version)
    known = bool(old.vulnerabilities or new.vulnerabilities)
    cves_a = _cves_by_component(old.vulnerabilities)
    cves_b = _cves_by_component(new.vulnerabilities)
    changed = []
    for name in sorted(va.keys() & vb.keys()):
        if va[name] == vb[name]:
            continue
        row: dict[str, Any] = {
            "name": name,
            "old_versions": sorted(str(v) for v in va[name]),
            "new_versions": sorted(str(v) for v in vb[name]),
        }
        if known:
            row["cves_added"] = sorted(cves_b.get(name, set()) - cves_a.get(name, set()))
            row["cves_fixed"] = sorted(cves_a.get(name, set()) - cves_b.get(name, set()))
        changed.append(row)
    added = [{"name": n, "versions": sorted(str(v) for v in vb[n])} for n in sorted(vb.keys() - va.keys())]
    removed = [{"name": n, "versions": sorted(str(v) for v in va[n])} for n in sorted(va.keys() - vb.keys())]
    all_a = {i for s in cves_a.values() for i in s}
    all_b = {i for s in cves_b.values() for i in s}
    return {
        "changed": changed,
        "added": added,
        "removed": removed,
        "vulnerabilities_known": known,
        "cves_added": sorted(all_b - all_a),
        "cves_fixed": sorted(all_a - all_b),
    }


def _cves_by_component(vulns: list[dict[str, Any]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for v in vulns:
        vid, comp = _vuln_id(v), _vuln_component(v)
        if vid:
            out.setdefault(comp or "", set()).add(vid)
    return out


# ---------------------------------------------------------------- accounts


@dataclass(frozen=True)
class Account:
    name: str
    uid: str
    gid: str
    home: str
    shell: str
    hash_kind: str  # "locked", "empty", "md5-crypt", ...
    hash_fingerprint: str  # sha256 prefix of the hash field, so a change shows without the hash itself
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "uid": self.uid,
            "gid": self.gid,
            "home": self.home,
            "shell": self.shell,
            "password": self.hash_kind,
            "hash_fingerprint": self.hash_fingerprint,
            "source": self.source,
        }


_SCHEMES = {
    "1": "md5-crypt",
    "2a": "bcrypt",
    "2b": "bcrypt",
    "2y": "bcrypt",
    "5": "sha256-crypt",
    "6": "sha512-crypt",
    "y": "yescrypt",
    "gy": "gost-yescrypt",
    "7": "scrypt",
    "sha1": "sha1-crypt",
}


def hash_kind(field: str) -> str:
    if field == "":
        return "empty"
    if field in ("x", "*"):
        return "shadowed" if field == "x" else "locked"
    if field.startswith(("!", "*")):
        return "locked"
    if field.startswith("$"):
        scheme = field.split("$")[1] if field.count("$") >= 2 else ""
        return _SCHEMES.get(scheme, f"crypt-{scheme}")
    if len(field) == 13:
        return "des-crypt"
    return "other"


def _fingerprint(field: str) -> str:
    return hashlib.sha256(field.encode()).hexdigest()[:12] if field else ""


def _colon_lines(index: FileIndex, entry: FileEntry) -> Iterator[list[str]]:
    for raw in index.read(entry, MAX_CONFIG_BYTES).decode("utf-8", errors="replace").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            yield line.split(":")


def accounts(index: FileIndex) -> dict[str, Account]:
    """Accounts from /etc/passwd, with hashes from /etc/shadow where it has them."""
    shadow: dict[str, tuple[str, str]] = {}
    for sh in (index.resolve("/etc/shadow"), index.resolve("/etc/shadow-")):
        if sh is not None and sh.is_file:
            for f in _colon_lines(index, sh):
                if len(f) >= 2 and f[0] not in shadow:
                    shadow[f[0]] = (f[1], sh.path)
            break
    out: dict[str, Account] = {}
    pw = index.resolve("/etc/passwd")
    if pw is not None and pw.is_file:
        for f in _colon_lines(index, pw):
            if len(f) < 7 or f[0] in out:
                continue
            field, source = f[1], pw.path
            if field == "x" and f[0] in shadow:
                field, source = shadow[f[0]]
            out[f[0]] = Account(f[0], f[2], f[3], f[5], f[6], hash_kind(field), _fingerprint(field), source)
    for name, (field, source) in shadow.items():
        if name not in out:
            out[name] = Account(name, "", "", "", "", hash_kind(field), _fingerprint(field), source)
    return out


def accounts_delta(old: FileIndex, new: FileIndex) -> dict[str, Any]:
    a, b = accounts(old), accounts(new)
    changed = []
    for name in sorted(a.keys() & b.keys()):
        x, y = a[name], b[name]
        what = [
            label
            for label, same in (
                ("password", x.hash_fingerprint == y.hash_fingerprint),
                ("uid", x.uid == y.uid),
                ("gid", x.gid == y.gid),
                ("home", x.home == y.home),
                ("shell", x.shell == y.shell),
            )
            if not same
        ]
        if what:
            changed.append({"name": name, "changes": what, "old": x.to_dict(), "new": y.to_dict()})
    return {
        "added": [b[n].to_dict() for n in sorted(b.keys() - a.keys())],
        "removed": [a[n].to_dict() for n in sorted(a.keys() - b.keys())],
        "changed": changed,
    }


# ---------------------------------------------------------------- keys

_PEM_KEY = re.compile(rb"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY)-----[\s\S]{16,16384}?-----END \1-----")
_AUTH_KEY = re.compile(
    r"(?:^|\s)((?:ssh|ecdsa-sha2|sk-ssh|sk-ecdsa-sha2)-[a-z0-9@.-]+)\s+([A-Za-z0-9+/]{40,}={0,3})(?:\s+(.*))?$"
)


def _ssh_fingerprint(b64: str) -> str:
    try:
        raw = base64.b64decode(b64 + "=" * (-len(b64) % 4))
    except ValueError:
        raw = b64.encode()
    return "SHA256:" + base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")


def keys(index: FileIndex) -> list[dict[str, Any]]:
    """Private keys (PEM blocks in any file) and authorized keys (authorized_keys files)."""
    out: list[dict[str, Any]] = []
    for e in index.files():
        if e.size == 0 or e.size > MAX_KEY_SCAN_BYTES:
            continue
        data = index.read(e)
        if b"PRIVATE KEY-----" in data:
            for m in _PEM_KEY.finditer(data):
                body = b"".join(m.group(0).split())
                out.append(
                    {
                        "kind": "private-key",
                        "type": m.group(1).decode(),
                        "path": e.path,
                        "fingerprint": "sha256:" + hashlib.sha256(body).hexdigest()[:16],
                        "offset": m.start(),
                    }
                )
        if e.name.startswith("authorized_keys") and e.filetype in ("text", "empty"):
            for line in data.decode("utf-8", errors="replace").splitlines():
                am = _AUTH_KEY.search(line.strip())
                if am and not line.lstrip().startswith("#"):
                    out.append(
                        {
                            "kind": "authorized-key",
                            "type": am.group(1),
                            "path": e.path,
                            "fingerprint": _ssh_fingerprint(am.group(2)),
                            "comment": (am.group(3) or "").strip(),
                        }
                    )
    return out


def keys_delta(old: FileIndex, new: FileIndex) -> dict[str, Any]:
    return delta(keys(old), keys(new), ("kind", "path", "fingerprint"))


# ---------------------------------------------------------------- boot services and ports

# Well-known listening ports of daemons, used when the command line names none.
DEFAULT_PORTS: dict[str, tuple[int, str]] = {
    "telnetd": (23, "tcp"),
    "utelnetd": (23, "tcp"),
    "dropbear": (22, "tcp"),
    "sshd": (22, "tcp"),
    "httpd": (80, "tcp"),
    "uhttpd": (80, "tcp"),
    "lighttpd": (80, "tcp"),
    "mini_httpd": (80, "tcp"),
    "thttpd": (80, "tcp"),
    "boa": (80, "tcp"),
    "goahead": (80, "tcp"),
    "nginx": (80, "tcp"),
    "ftpd": (21, "tcp"),
    "vsftpd": (21, "tcp"),
    "bftpd": (21, "tcp"),
    "proftpd": (21, "tcp"),
    "pure-ftpd": (21, "tcp"),
    "tftpd": (69, "udp"),
    "udpsvd": (69, "udp"),
    "snmpd": (161, "udp"),
    "mini_snmpd": (161, "udp"),
    "dnsmasq": (53, "udp"),
    "named": (53, "udp"),
    "miniupnpd": (1900, "udp"),
    "smbd": (445, "tcp"),
    "nmbd": (137, "udp"),
    "rsyncd": (873, "tcp"),
    "cwmpd": (7547, "tcp"),
    "tr069": (7547, "tcp"),
    "inetd": (0, "tcp"),
}
# Programs that wrap another command; the real program follows them.
_WRAPPERS = {"exec", "nohup", "busybox", "nice", "setsid", "chroot", "env", "sudo", "start-stop-daemon"}
_SHELL_WORDS = {
    "if",
    "then",
    "else",
    "elif",
    "fi",
    "do",
    "done",
    "while",
    "for",
    "case",
    "esac",
    "!",
    "{",
    "}",
}
_PORT_OPTS = {"-p", "--port", "-P", "-l"}  # "-l" only counts after "nc"
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SPLIT = re.compile(r"\s*(?:&&|\|\||;|\||&)\s*")
_CONFIG_PORT = re.compile(
    r"^\s*(?:[\w.]*\.)?(listen_port|port|listen|server\.port|http_port|ListenAddress|Port)\s*[=: \t]\s*"
    r"[\"']?(?:[\w.\-\[\]:]*:)?(\d{1,5})[\"']?\s*$",
    re.IGNORECASE,
)
_SERVICE_GLOBS = (
    "/etc/init.d/*",
    "/etc/rc.d/*",
    "/etc/rc*.d/*",
    "/etc/rc.local",
    "/etc/rcS",
    "/etc/rc",
    "/etc/profile",
    "/etc/init/*",
    "/sbin/rc*",
)
_CRON_GLOBS = ("/etc/crontab", "/etc/cron.d/*", "/etc/crontabs/*", "/var/spool/cron/crontabs/*")
_UNIT_GLOBS = ("/etc/systemd/system/*.service", "/lib/systemd/system/*.service", "/usr/lib/systemd/system/*")


@dataclass(frozen=True)
class Service:
    source: str
    kind: str  # "init-script", "inittab", "cron", "inetd", "systemd"
    program: str
    command: str
    line: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "kind": self.kind,
            "program": self.program,
            "command": self.command,
            "line": self.line,
        }


def _words(command: str) -> list[str]:
    try:
        return shlex.split(command, comments=True)
    except ValueError:
        return command.split()


def program_of(words: list[str]) -> tuple[str, list[str]]:
    """The program a command line really starts, past env settings and wrappers, and its arguments."""
    i = 0
    while i < len(words):
        w = words[i]
        base = posixpath.basename(w)
        if _ASSIGNMENT.match(w) or base in _SHELL_WORDS:
            i += 1
        elif base == "start-stop-daemon":
            # the program is the argument of -x/--exec/-a/--startas
            rest = words[i + 1 :]
            for j, opt in enumerate(rest):
                if opt in ("-x", "--exec", "-a", "--startas") and j + 1 < len(rest):
                    k = rest.index("--") + 1 if "--" in rest else len(rest)
                    return posixpath.basename(rest[j + 1]), rest[k:]
            return base, rest
        elif base in _WRAPPERS:
            i += 1
            while i < len(words) and words[i].startswith("-"):
                i += 1
        else:
            return base, words[i + 1 :]
    return "", []


# Commands ending in "d" that are not daemons.
_NOT_DAEMONS = {"chmod", "insmod", "rmmod", "mknod", "sed", "read", "find", "expand", "load", "round"}


def _looks_like_daemon(program: str) -> bool:
    if program in _NOT_DAEMONS:
        return False
    return (
        program in DEFAULT_PORTS
        or program in ("nc", "netcat")
        or (program.endswith("d") and len(program) > 3)
    )


def _script_services(index: FileIndex, e: FileEntry, kind: str) -> Iterator[Service]:
    text = index.read(e, MAX_CONFIG_BYTES).decode("utf-8", errors="replace")
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        for part in _SPLIT.split(line):
            program, _ = program_of(_words(part))
            if program and _looks_like_daemon(program):
                yield Service(e.path, kind, program, " ".join(part.split()), no)


def services(index: FileIndex) -> list[Service]:
    """Programs started at boot or on a schedule: init scripts, inittab, cron, inetd, systemd."""
    out: list[Service] = []
    seen: set[tuple[str, str]] = set()

    def add(s: Service) -> None:
        if (s.source, s.command) not in seen:
            seen.add((s.source, s.command))
            out.append(s)

    for pattern in _SERVICE_GLOBS:
        for e in index.glob(pattern):
            if e.is_file and e.filetype in ("text", "script"):
                for s in _script_services(index, e, "init-script"):
                    add(s)
    inittab = index.resolve("/etc/inittab")
    if inittab is not None and inittab.is_file:
        for no, f in enumerate(_colon_lines(index, inittab), 1):
            if len(f) >= 4:
                cmd = ":".join(f[3:]).strip()
                program, _ = program_of(_words(cmd.lstrip("-")))
                add(Service(inittab.path, f"inittab:{f[2]}", program, " ".join(cmd.split()), no))
    for pattern in _CRON_GLOBS:
        for e in index.glob(pattern):
            if not (e.is_file and e.filetype in ("text", "script")):
                continue
            for no, raw in enumerate(
                index.read(e, MAX_CONFIG_BYTES).decode("utf-8", "replace").splitlines(), 1
            ):
                fields = raw.split()
                if not fields or raw.lstrip().startswith("#") or "=" in fields[0]:
                    continue
                cmd_words = fields[1:] if fields[0].startswith("@") else fields[5:]
                if e.path == "/etc/crontab" or e.path.startswith("/etc/cron.d/"):
                    cmd_words = cmd_words[1:]  # the user column
                cmd = " ".join(cmd_words)
                if cmd:
                    add(Service(e.path, "cron", program_of(_words(cmd))[0], cmd, no))
    for conf in ("/etc/inetd.conf", "/etc/xinetd.conf"):
        found = index.resolve(conf)
        if found is None or not found.is_file:
            continue
        e = found
        for no, raw in enumerate(index.read(e, MAX_CONFIG_BYTES).decode("utf-8", "replace").splitlines(), 1):
            f = raw.split()
            if len(f) >= 6 and not f[0].startswith("#"):
                add(Service(e.path, f"inetd:{f[0]}/{f[2]}", posixpath.basename(f[5]), " ".join(f), no))
    for pattern in _UNIT_GLOBS:
        for e in index.glob(pattern):
            if not (e.is_file and e.filetype in ("text", "script")):
                continue
            for no, raw in enumerate(
                index.read(e, MAX_CONFIG_BYTES).decode("utf-8", "replace").splitlines(), 1
            ):
                if raw.strip().startswith("ExecStart="):
                    cmd = raw.split("=", 1)[1].strip().lstrip("-@+!")
                    add(Service(e.path, "systemd", program_of(_words(cmd))[0], cmd, no))
    return out


_INETD_PORTS = {"telnet": 23, "ftp": 21, "ssh": 22, "tftp": 69, "http": 80, "shell": 514, "login": 513}


def ports(index: FileIndex, svcs: list[Service]) -> list[dict[str, Any]]:
    """Ports services listen on: from their options (-p), their config files, or their defaults."""
    out: list[dict[str, Any]] = []
    for s in svcs:
        if s.kind.startswith("inetd:"):
            name, _, proto = s.kind.removeprefix("inetd:").partition("/")
            port = int(name) if name.isdigit() else _INETD_PORTS.get(name)
            if port:
                out.append(_port(port, proto or "tcp", s.program, s.source, "inetd.conf"))
            continue
        words = _words(s.command)
        program, args = program_of(words)
        found = _port_from_args(program, args)
        if found is not None:
            out.append(_port(found, DEFAULT_PORTS.get(program, (0, "tcp"))[1], program, s.source, "option"))
        elif program in DEFAULT_PORTS and DEFAULT_PORTS[program][0]:
            port, proto = DEFAULT_PORTS[program]
            out.append(_port(port, proto, program, s.source, "default"))
    for e in index.glob("/etc/*"):
        if not (e.is_file and e.filetype == "text") or not _is_config_name(e.name):
            continue
        for raw in index.read(e, MAX_CONFIG_BYTES).decode("utf-8", "replace").splitlines():
            m = _CONFIG_PORT.match(raw)
            if m and not raw.lstrip().startswith("#"):
                port = int(m.group(2))
                if 0 < port < 65536:
                    out.append(_port(port, "tcp", _program_of_config(e.path), e.path, "config"))
    uniq = {(p["port"], p["proto"], p["program"], p["source"]): p for p in out}
    return [uniq[k] for k in sorted(uniq, key=lambda k: (k[0], k[1], k[2], k[3]))]


def _is_config_name(name: str) -> bool:
    return name.endswith((".conf", ".cfg", "_config", ".ini")) or name in ("config",)


def _program_of_config(path: str) -> str:
    name = posixpath.basename(path)
    for suffix in (".conf", ".cfg", "_config", ".ini"):
        name = name.removesuffix(suffix)
    return name


def _port_from_args(program: str, args: list[str]) -> int | None:
    for i, a in enumerate(args):
        value: str | None = None
        if a in _PORT_OPTS and i + 1 < len(args):
            if a == "-l" and program not in ("nc", "netcat"):
                continue
            value = args[i + 1]
        elif a.startswith("--port="):
            value = a.split("=", 1)[1]
        elif a.startswith("-p") and len(a) > 2 and a[2:].lstrip(":").isdigit():
            value = a[2:]
        if value is not None:
            digits = value.rsplit(":", 1)[-1]
            if digits.isdigit() and 0 < int(digits) < 65536:
                return int(digits)
    return None


def _port(port: int, proto: str, program: str, source: str, how: str) -> dict[str, Any]:
    return {"port": port, "proto": proto, "program": program, "source": source, "from": how}


def services_delta(old: FileIndex, new: FileIndex) -> tuple[dict[str, Any], dict[str, Any]]:
    sa, sb = services(old), services(new)
    d_services = delta([s.to_dict() for s in sa], [s.to_dict() for s in sb], ("source", "command"))
    d_ports = delta(ports(old, sa), ports(new, sb), ("port", "proto", "program"))
    return d_services, d_ports


def security_delta(
    old_index: FileIndex,
    new_index: FileIndex,
    old: Report | None,
    new: Report | None,
    touched: tuple[list[FileEntry], list[FileEntry]] | None = None,
) -> dict[str, Any]:
    """touched: the entries that differ on each side. Keys, services and ports are read per file,
    so files equal on both sides cancel out and only these need reading."""
    if touched is not None:
        key_old, key_new = _subset(old_index, touched[0]), _subset(new_index, touched[1])
    else:
        key_old, key_new = old_index, new_index
    svc, prt = services_delta(key_old, key_new)
    return {
        "findings": findings_delta(old, new),
        "components": components_delta(old, new),
        "accounts": accounts_delta(old_index, new_index),
        "keys": keys_delta(key_old, key_new),
        "services": svc,
        "ports": prt,
    }


def _subset(index: FileIndex, entries: list[FileEntry]) -> FileIndex:
    wanted = {(e.fs, e.path) for e in entries}
    # Keep the symlinks' targets too, so that resolve() still finds what they point at.
    for e in entries:
        if e.is_symlink:
            target = index.resolve(e.path, e.fs)
            if target is not None:
                wanted.add((target.fs, target.path))
    return FileIndex([e for e in index if (e.fs, e.path) in wanted], list(index.fs_order))


def is_empty(sec: dict[str, Any]) -> bool:
    for part in sec.values():
        for k, v in part.items():
            if k in ("added", "removed", "changed") and v:
                return False
    return True
