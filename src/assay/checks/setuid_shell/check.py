"""setuid-shell: setuid/setgid-root shells, interpreters and programs in hiding places."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from assay.checks.base import Check, CheckContext, evidence_of_file
from assay.index import FileEntry, FileIndex
from assay.model import Evidence, Finding, Severity

# Programs that hand out a shell or run arbitrary code when they keep root's rights.
_SHELL_NAMES = frozenset(
    {"sh", "ash", "bash", "dash", "zsh", "ksh", "mksh", "pdksh", "csh", "tcsh", "fish", "hush", "msh",
     "rbash", "busybox", "toybox", "perl", "ruby", "php", "lua", "luajit", "tclsh", "wish", "expect",
     "awk", "gawk", "mawk", "nawk", "nc", "ncat", "netcat", "socat", "node", "gdb", "env", "vi", "vim",
     "find", "less", "more", "nmap", "strace", "script"}
)  # fmt: skip
_VERSIONED = re.compile(r"^(python|perl|lua|php|ruby|tclsh|wish)[0-9.]*$")
_MULTICALL = ("busybox", "toybox")
# Strings that identify a shell or interpreter binary whatever it is called.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"BusyBox v", "busybox"),
    (b"toybox", "toybox"),
    (b"GNU bash, version", "bash"),
    (b"BASH_VERSINFO", "bash"),
    (b"Py_Initialize", "python"),
    (b"perl_parse", "perl"),
    (b"lua_pcall", "lua"),
    (b"zsh_", "zsh"),
    (b"socat version", "socat"),
)
_BIN_DIRS = ("/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin")
# Where a setuid program has no business: writable, volatile, web-served or device trees.
_ODD_ROOTS = (
    "/tmp", "/var", "/dev", "/www", "/home", "/root", "/mnt", "/media", "/run", "/srv", "/data",
    "/etc", "/usr/share", "/usr/local/share", "/overlay", "/proc", "/sys", "/boot", "/opt/tmp",
)  # fmt: skip


def _name_kind(name: str) -> str | None:
    if name in _SHELL_NAMES:
        return name
    m = _VERSIONED.match(name)
    return m.group(1) if m else None


def _known_shell_hashes(index: FileIndex) -> dict[str, dict[str, str]]:
    """sha256 -> {path: shell name} for every file a shell's name resolves to in this image."""
    out: dict[str, dict[str, str]] = {}
    for e in index:
        kind = _name_kind(e.name)
        if kind is None or not (e.is_file or e.is_symlink):
            continue
        target = index.resolve(e.path, e.fs) if e.is_symlink else e
        if target is None or not target.is_file or not target.sha256 or target.size == 0:
            continue
        # A multicall binary is best named by itself, not by one of its applets.
        named = out.setdefault(target.sha256, {})
        if target.path not in named or _name_kind(target.name) == kind:
            named[target.path] = kind
    return out


def _same_as(shells: dict[str, dict[str, str]], entry: FileEntry) -> tuple[str, str] | None:
    """(kind, path) of another file in the image with this file's bytes that is a shell."""
    others = {p: k for p, k in shells.get(entry.sha256 or "", {}).items() if p != entry.path}
    if not others:
        return None
    path = min(others, key=lambda p: (others[p] not in _MULTICALL, len(p), p))
    return others[path], path


def _content_kind(index: FileIndex, entry: FileEntry) -> str | None:
    if entry.elf is None:
        return None
    data = index.read(entry, 8 << 20)
    for marker, kind in _SIGNATURES:
        if marker in data:
            return kind
    return None


def _odd_place(path: str) -> str | None:
    parts = path.split("/")[1:]
    if any(p.startswith(".") and p not in (".", "..") for p in parts):
        return "a hidden path"
    for root in _ODD_ROOTS:
        if path == root or path.startswith(root + "/"):
            return f"{root}"
    return None


def _aliases(index: FileIndex, entry: FileEntry) -> list[str]:
    """Symlinks that lead to this file: its applet names, for the report only."""
    out = []
    for e in index:
        if e.is_symlink and e.fs == entry.fs:
            t = index.resolve(e.path, e.fs)
            if t is not None and t.path == entry.path:
                out.append(e.path)
    return sorted(out)


def run(ctx: CheckContext) -> Iterator[Finding]:
    index = ctx.index
    privileged = [e for e in index.files() if (e.setuid and e.uid == 0) or (e.setgid and e.gid == 0)]
    if not privileged:
        return
    shells = _known_shell_hashes(index)
    for e in privileged:
        bits = "/".join(
            b for b, on in (("setuid", e.setuid and e.uid == 0), ("setgid", e.setgid and e.gid == 0)) if on
        )
        same = _same_as(shells, e)
        content = _content_kind(index, e)
        kind = (same[0] if same else None) or content or _name_kind(e.name)
        if same:
            how = f"same sha256 as {same[1]}"
        elif content:
            how = "content signature"
        else:
            how = "file name"
        odd = _odd_place(e.path)
        canonical = posixpath.dirname(e.path) in _BIN_DIRS and e.name in _MULTICALL
        details = {"bits": bits, "owner": e.uid, "group": e.gid, "identified_as": kind, "identified_by": how}
        if kind in _MULTICALL and canonical and not odd:
            aliases = _aliases(index, e)
            yield CHECK.finding(
                e.path,
                f"{kind} is {bits}-root; its applets run with root rights unless it drops them",
                [evidence_of_file(e, note=f"{bits} root {kind}", details={"applets": aliases[:20]})],
                severity=Severity.LOW,
                category="setuid-binary",
                details={**details, "applet_links": len(aliases)},
            )
        elif kind is not None:
            where = f" in {odd}" if odd else ""
            yield CHECK.finding(
                e.path,
                f"{bits}-root {kind}{where}" + ("" if e.name == kind else f" (named {e.name})"),
                [_file_evidence(e, f"{bits} root, {kind} identified by {how}")],
                details=details,
            )
        elif odd:
            yield CHECK.finding(
                e.path,
                f"{bits}-root program in {odd}",
                [_file_evidence(e, f"{bits} root program outside the system directories")],
                severity=Severity.HIGH,
                details=details,
            )
        else:
            yield CHECK.finding(
                e.path,
                f"{bits}-root program {e.name}",
                [evidence_of_file(e, note=f"{bits} root")],
                severity=Severity.INFO,
                category="setuid-binary",
                details=details,
            )


def _file_evidence(e: FileEntry, note: str) -> Evidence:
    return evidence_of_file(e, note=note, details={"size": e.size})


CHECK = Check(
    id="setuid-shell",
    category="setuid-shell",
    severity=Severity.CRITICAL,
    title="Setuid-root shell or interpreter",
    description=(
        "Regular files that are setuid root or setgid root and are a shell or interpreter "
        "(identified by sha256 against the image's own /bin/sh, busybox, bash ..., by content "
        "signature, or by name), and setuid-root programs in hidden or unusual places (/tmp, "
        "/var, /www, dot directories). BusyBox or toybox made setuid in a system bin directory "
        "(so that su and passwd applets work) and the other setuid programs (su, passwd, ping, "
        "mount ...) are listed in the 'setuid-binary' category, not as back doors."
    ),
    run=run,
    clause="4.3.2.7",
    references=(
        "https://cwe.mitre.org/data/definitions/250.html",
        "https://attack.mitre.org/techniques/T1548/001/",
        "https://gtfobins.github.io/#+suid",
    ),
    false_positives=(
        "Images unpacked by tools that do not keep modes cannot show setuid bits; a setuid "
        "helper installed by a vendor under /usr/share or /www is reported as unusual."
    ),
)
