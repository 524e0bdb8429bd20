"""Security delta: what an update adds or removes that matters to an assessor.

Findings, component versions (and their CVEs), accounts, keys, boot services and listening ports.
Each item names the file it comes from so the reader can check it.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from typing import Any

from assay.analysis.accounts import Account, account_tables
from assay.analysis.initsystem import boot_model
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


def components_delta(old: Report | None, new: Report | None, vulns_checked: bool = False) -> dict[str, Any]:
    """Version changes by component name, with the CVEs each change adds or fixes when known.

    vulns_checked: both sides were matched against a database, so no CVE at all means none."""
    if old is None or new is None:
        return {"changed": [], "added": [], "removed": [], "vulnerabilities_known": False}
    va: dict[str, set[str | None]] = {}
    vb: dict[str, set[str | None]] = {}
    for c in old.components:
        va.setdefault(c.name.lower(), set()).add(c.version)
    for c in new.components:
        vb.setdefault(c.name.lower(), set()).add(c.version)
    known = vulns_checked or bool(old.vulnerabilities or new.vulnerabilities)
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


# Triage states under which a vulnerability still counts against the image.
_AFFECTED = {None, "affected", "under_investigation"}


def _cves_by_component(vulns: list[dict[str, Any]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for v in vulns:
        if v.get("state") not in _AFFECTED:
            continue  # triaged away (not_affected, false_positive, ...)
        vid, comp = _vuln_id(v), _vuln_component(v)
        if vid:
            out.setdefault(comp or "", set()).add(vid)
    return out


# ---------------------------------------------------------------- accounts


def _account_row(table_path: str, a: Account) -> dict[str, Any]:
    secret = a.secret
    state = str(secret.state)
    return {
        "name": a.name,
        "uid": a.uid,
        "gid": a.gid,
        "home": a.home,
        "shell": a.shell,
        # the scheme for a hash, else the state (empty, locked, plaintext)
        "password": str(secret.scheme) if state == "hash" else state,
        # a digest of the hash field, so a change shows without printing a crackable hash
        "hash_fingerprint": hashlib.sha256(secret.value.encode()).hexdigest()[:12] if secret.value else "",
        "source": a.secret_span.path,
        "table": table_path,
    }


def accounts(index: FileIndex) -> dict[tuple[str, str], dict[str, Any]]:
    """Accounts of the tables the running system reads (not passwd- backups), by table and name."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for t in account_tables(index):
        entry = t.passwd or t.shadow
        if t.backup or entry is None:
            continue
        for a in t.accounts:
            out.setdefault((entry.path, a.name), _account_row(entry.path, a))
    return out


def accounts_delta(old: FileIndex, new: FileIndex) -> dict[str, Any]:
    a, b = accounts(old), accounts(new)
    changed = []
    for key in sorted(a.keys() & b.keys()):
        x, y = a[key], b[key]
        what = (
            ["password"]
            if (x["hash_fingerprint"], x["password"]) != (y["hash_fingerprint"], y["password"])
            else []
        )
        what += [f for f in ("uid", "gid", "home", "shell") if x[f] != y[f]]
        if what:
            changed.append({"name": key[1], "changes": what, "old": x, "new": y})
    return {
        "added": [b[k] for k in sorted(b.keys() - a.keys())],
        "removed": [a[k] for k in sorted(a.keys() - b.keys())],
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

_CONFIG_PORT = re.compile(
    r"^\s*(?:[\w.]*\.)?(listen_port|port|listen|server\.port|http_port|ListenAddress|Port)\s*[=: \t]\s*"
    r"[\"']?(?:[\w.\-\[\]:]*:)?(\d{1,5})[\"']?\s*$",
    re.IGNORECASE,
)
_CONFIG_SUFFIXES = (".conf", ".cfg", "_config", ".ini")


def boot_services(index: FileIndex) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Commands started at boot or on a schedule, and the ports they listen on (shared boot model)."""
    model = boot_model(index)
    services = [
        {
            "program": c.program,
            "command": c.text.strip(),
            "source": c.source,
            "line": c.line,
            "origin": c.origin,
            "enabled": c.enabled,
            "via": list(c.via),
        }
        for c in model.commands
    ]
    ports = [
        _port(x.port, x.protocol, x.program, x.command.source, "boot command") for x in model.listeners()
    ]
    return services, ports


def config_ports(index: FileIndex) -> list[dict[str, Any]]:
    """`port = N`, `Port N`, `listen N` lines in configuration files under /etc."""
    out = []
    for e in index.glob("/etc/*"):
        if not (e.is_file and e.filetype == "text" and e.name.endswith(_CONFIG_SUFFIXES)):
            continue
        name = e.name
        for suffix in _CONFIG_SUFFIXES:
            name = name.removesuffix(suffix)
        for raw in index.read(e, MAX_CONFIG_BYTES).decode("utf-8", "replace").splitlines():
            m = _CONFIG_PORT.match(raw)
            if m and 0 < int(m.group(2)) < 65536:
                out.append(_port(int(m.group(2)), "tcp", name, e.path, "config"))
    return out


def _port(port: int, proto: str, program: str, source: str, how: str) -> dict[str, Any]:
    return {"port": port, "proto": proto, "program": program, "source": source, "from": how}


def services_delta(
    old: FileIndex, new: FileIndex, old_touched: FileIndex, new_touched: FileIndex
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The boot model follows scripts from their entry points, so it reads the whole view;
    config files are read one by one, so only the files that differ are."""
    sa, pa = boot_services(old)
    sb, pb = boot_services(new)
    pa += config_ports(old_touched)
    pb += config_ports(new_touched)
    return (
        delta(sa, sb, ("source", "command", "enabled")),
        delta(pa, pb, ("port", "proto", "program")),
    )


def security_delta(
    old_index: FileIndex,
    new_index: FileIndex,
    old: Report | None,
    new: Report | None,
    touched: tuple[list[FileEntry], list[FileEntry]] | None = None,
    vulns_checked: bool = False,
) -> dict[str, Any]:
    """touched: the entries that differ on each side. Keys, services and ports are read per file,
    so files equal on both sides cancel out and only these need reading."""
    if touched is not None:
        key_old, key_new = _subset(old_index, touched[0]), _subset(new_index, touched[1])
    else:
        key_old, key_new = old_index, new_index
    svc, prt = services_delta(old_index, new_index, key_old, key_new)
    return {
        "findings": findings_delta(old, new),
        "components": components_delta(old, new, vulns_checked),
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
