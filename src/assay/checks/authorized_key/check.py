"""authorized-key: SSH keys pre-installed to log in as a user of the device.

Looks at authorized_keys/authorized_keys2 anywhere (home directories from /etc/passwd, /root,
dropbear's /etc/dropbear/authorized_keys) and at files that sshd_config's AuthorizedKeysFile names.
An empty file or one with comments only is not a finding.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from assay.checks.base import Check, CheckContext, evidence_at
from assay.checks.private_key.keys import leaked_keys, ssh_public_keys
from assay.index import FileEntry, FileIndex
from assay.model import Finding, Severity

_NAMES = ("authorized_keys", "authorized_keys2")
_MAX_FILE = 1 << 20


def _passwd(index: FileIndex) -> list[tuple[str, str]]:
    """(user, home) pairs from /etc/passwd."""
    entry = index.resolve("/etc/passwd")
    if entry is None:
        return []
    out = []
    for line in index.text(entry, _MAX_FILE).splitlines():
        parts = line.split(":")
        if len(parts) >= 6 and parts[0] and not line.startswith("#"):
            out.append((parts[0], parts[5] or "/"))
    return out


def _configured_paths(index: FileIndex, users: list[tuple[str, str]]) -> set[str]:
    """Files named by AuthorizedKeysFile in sshd_config, with %u and %h expanded."""
    paths: set[str] = set()
    for cfg in index.by_name("sshd_config"):
        if not cfg.is_file:
            continue
        for m in re.finditer(r"(?im)^\s*AuthorizedKeysFile\s+(.+)$", index.text(cfg, _MAX_FILE)):
            for pattern in m.group(1).split():
                for user, home in users:
                    p = pattern.replace("%%", "%").replace("%u", user).replace("%h", home)
                    paths.add(p if p.startswith("/") else posixpath.join(home, p))
    return paths


def _owner(path: str, users: list[tuple[str, str]]) -> str:
    if path.startswith("/etc/dropbear/"):
        return "root"
    for user, home in sorted(users, key=lambda u: -len(u[1])):
        if home not in ("/", "") and path.startswith(home.rstrip("/") + "/"):
            return user
    if path.startswith("/root/"):
        return "root"
    m = re.match(r"^/home/([^/]+)/", path)
    return m.group(1) if m else "unknown"


def _candidates(index: FileIndex, users: list[tuple[str, str]]) -> Iterator[FileEntry]:
    seen: set[tuple[str, str]] = set()
    wanted = [e.path for e in index.by_name(*_NAMES)]
    wanted += [posixpath.join(home, ".ssh", n) for _u, home in users for n in _NAMES]
    wanted += sorted(_configured_paths(index, users))
    for path in wanted:
        entry = index.resolve(path)
        if entry is None or not entry.is_file:
            continue
        key = (entry.fs, entry.path)
        if key not in seen:
            seen.add(key)
            yield entry


def run(ctx: CheckContext) -> Iterator[Finding]:
    users = _passwd(ctx.index)
    leaked = leaked_keys()
    for entry in _candidates(ctx.index, users):
        data = ctx.index.read(entry, _MAX_FILE)
        keys = list(ssh_public_keys(data))
        if not keys:
            continue
        owner = _owner(entry.path, users)
        evidence = []
        listed = []
        severity = Severity.HIGH
        for k in keys:
            info = {
                "type": k.kind,
                "bits": k.bits,
                "comment": k.comment,
                "ssh_fingerprint": k.ssh_fingerprint,
            }
            if k.options:
                info["options"] = k.options
            match = leaked.get(k.ssh_fingerprint)
            if match:
                info["leaked"] = match["name"]
                severity = Severity.CRITICAL
            listed.append(info)
            evidence.append(
                evidence_at(entry, data, k.offset, min(k.length, 80), note="authorized key", details=info)
            )
        names = ", ".join(
            f"{k.kind} {k.ssh_fingerprint}" + (f" {k.comment}" if k.comment else "") for k in keys[:3]
        )
        yield CHECK.finding(
            entry.path,
            f"Pre-installed SSH authorized key{'s' if len(keys) > 1 else ''} for {owner}: {names}",
            evidence,
            severity=severity,
            details={"user": owner, "keys": listed},
        )


CHECK = Check(
    id="authorized-key",
    category="authorized-key",
    severity=Severity.HIGH,
    title="Pre-installed SSH authorized key",
    description=(
        "An authorized_keys file shipped in the image lets whoever holds the matching private key log "
        "in over SSH without a password. Each key is listed with its type, comment and SHA256 "
        "fingerprint; keys that match publicly leaked vendor keys are named."
    ),
    run=run,
    clause="4.2.3.4.2.3",
    references=(
        "https://cwe.mitre.org/data/definitions/798.html",
        "https://www.3gpp.org/ftp/Specs/archive/33_series/33.117/",
    ),
    false_positives="A key the operator deliberately provisions in a custom build for its own management.",
)
