"""Package databases (dpkg status, opkg/ipkg status and control files) and release files."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

from assay.index import FileEntry, FileIndex

_STATUS_FILES = (
    "/var/lib/dpkg/status",
    "/usr/lib/opkg/status",
    "/var/lib/opkg/status",
    "/usr/lib/ipkg/status",
    "/var/lib/ipkg/status",
    "/lib/apk/db/installed",
)
_CONTROL_DIRS = ("/usr/lib/opkg/info", "/var/lib/opkg/info", "/usr/lib/ipkg/info", "/var/lib/ipkg/info")
_LIST_DIRS = {
    "dpkg": ("/var/lib/dpkg/info",),
    "opkg": _CONTROL_DIRS,
}


@dataclass(frozen=True)
class Package:
    name: str
    version: str  # as the package manager records it (epoch, revision and all)
    arch: str | None
    manager: str  # "dpkg" | "opkg" | "apk"
    source: FileEntry  # the database file
    offset: int
    line: str
    installed_files: tuple[str, ...] = ()


def upstream_version(version: str) -> str:
    """Debian/opkg version -> upstream: no epoch, no packaging revision, no repack suffix."""
    v = version.strip()
    if ":" in v and v.split(":", 1)[0].isdigit():
        v = v.split(":", 1)[1]
    if "-" in v:
        head, tail = v.rsplit("-", 1)
        # A revision is digits with optional +~. suffixes (4+deb12u1+b1, 1~deb12u2, r2).
        if re.fullmatch(r"r?[0-9][0-9A-Za-z.+~]*", tail):
            v = head
    v = re.sub(r"[.+~](?:dfsg|ds|repack|debian)[0-9.]*$", "", v, flags=re.I)
    v = re.sub(r"\+really.*$", "", v)
    return v


def _stanzas(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    offset = 0
    for block in re.split(r"(\n\s*\n)", text):
        if block.strip() and not re.fullmatch(r"\n\s*\n", block):
            fields: dict[str, str] = {}
            key = None
            for line in block.splitlines():
                if line[:1] in (" ", "\t") and key:
                    fields[key] += "\n" + line.strip()
                elif ":" in line:
                    key, _, value = line.partition(":")
                    key = key.strip().lower()
                    fields[key] = value.strip()
            yield offset, fields
        offset += len(block.encode("utf-8", errors="replace"))


def installed_packages(index: FileIndex) -> list[Package]:
    sources: list[tuple[FileEntry, str]] = []
    for path in _STATUS_FILES:
        entry = index.resolve(path)
        if entry is not None and entry.size > 0:
            sources.append((entry, "dpkg" if "dpkg" in path else ("apk" if "apk" in path else "opkg")))
    # Distroless images keep one dpkg stanza per package under status.d; opkg images without
    # a status file still keep one control file per package.
    for directory, manager, suffix in [("/var/lib/dpkg/status.d", "dpkg", "")] + [
        (d, "opkg", ".control") for d in _CONTROL_DIRS
    ]:
        for entry in index.children(directory):
            if entry.is_file and entry.name.endswith(suffix) and not entry.name.endswith(".md5sums"):
                sources.append((entry, manager))
    found: dict[tuple[str, str], Package] = {}
    for entry, manager in sources:
        text = index.text(entry, 32 << 20)
        for offset, fields in _apk_only(text) if manager == "apk" else _stanzas(text):
            pkg = _package(fields, manager, entry, offset, index)
            if pkg is not None:
                found.setdefault((pkg.manager, pkg.name), pkg)
    return sorted(found.values(), key=lambda p: (p.manager, p.name))


def _apk_only(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    mapping = {"P": "package", "V": "version", "A": "architecture"}
    offset = 0
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if len(line) > 2 and line[1] == ":" and line[0] in mapping:
                fields[mapping[line[0]]] = line[2:].strip()
        if fields:
            fields["status"] = "install ok installed"
            yield offset, fields
        offset += len(block.encode("utf-8", errors="replace")) + 2


def _package(
    fields: dict[str, str], manager: str, entry: FileEntry, offset: int, index: FileIndex
) -> Package | None:
    name = fields.get("package")
    version = fields.get("version")
    if not name or not version:
        return None
    status = fields.get("status", "install ok installed")
    # dpkg keeps removed packages ("deinstall ok config-files"); only installed ones count.
    if "installed" not in status.split() and "install" not in status.split():
        return None
    if status.split()[-1] in ("not-installed", "config-files"):
        return None
    listed: tuple[str, ...] = ()
    for directory in _LIST_DIRS.get(manager, ()):
        lst = index.get(posixpath.join(directory, f"{name}.list"))
        if lst is None:
            arch = fields.get("architecture")
            lst = index.get(posixpath.join(directory, f"{name}:{arch}.list")) if arch else None
        if lst is not None and lst.is_file:
            listed = tuple(
                line.strip() for line in index.text(lst, 8 << 20).splitlines() if line.strip().startswith("/")
            )
            break
    return Package(
        name=name,
        version=version,
        arch=fields.get("architecture"),
        manager=manager,
        source=entry,
        offset=offset,
        line=f"Package: {name} Version: {version}",
        installed_files=listed,
    )


@dataclass(frozen=True)
class Release:
    """An operating-system release named by /etc/os-release or /etc/openwrt_release."""

    id: str
    version: str
    cpe: str | None
    entry: FileEntry
    offset: int
    line: str


_OS_CPE = {
    "openwrt": ("openwrt", "openwrt"),
    "lede": ("openwrt", "openwrt"),
    "debian": ("debian", "debian_linux"),
    "ubuntu": ("canonical", "ubuntu_linux"),
    "alpine": ("alpinelinux", "alpine_linux"),
    "buildroot": ("buildroot", "buildroot"),
}


def os_cpe(os_id: str) -> tuple[str, str] | None:
    return _OS_CPE.get(os_id.lower())


def _shell_vars(text: str) -> dict[str, tuple[str, int, str]]:
    out: dict[str, tuple[str, int, str]] = {}
    pos = 0
    for line in text.splitlines(keepends=True):
        m = re.match(r"\s*([A-Z_][A-Z0-9_]*)=(['\"]?)(.*?)\2\s*$", line)
        if m:
            out[m.group(1)] = (m.group(3), pos, line.strip())
        pos += len(line.encode("utf-8", errors="replace"))
    return out


def releases(index: FileIndex) -> list[Release]:
    found: list[Release] = []
    entry = index.resolve("/etc/openwrt_release")
    if entry is not None and entry.is_file:
        env = _shell_vars(index.text(entry, 64 << 10))
        ident = env.get("DISTRIB_ID", ("OpenWrt", 0, ""))[0].lower()
        # Older releases name it ("Barrier Breaker") and put the number in the description.
        for key in ("DISTRIB_RELEASE", "DISTRIB_DESCRIPTION"):
            value, offset, line = env.get(key, ("", 0, ""))
            m = re.search(r"(?<![\w.])([0-9]+\.[0-9]+(?:[.-][0-9A-Za-z]+)*)", value)
            if m and (key == "DISTRIB_RELEASE" or m.start() > 0):
                found.append(Release(ident, m.group(1), None, entry, offset, line))
                break
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        entry = index.resolve(path)
        if entry is None or not entry.is_file:
            continue
        env = _shell_vars(index.text(entry, 64 << 10))
        ver = env.get("VERSION_ID")
        os_id = env.get("ID")
        if ver and os_id and re.match(r"[0-9]", ver[0]):
            cpe = env.get("CPE_NAME", (None, 0, ""))[0]
            if not any(r.id == os_id[0].lower() and r.version == ver[0] for r in found):
                found.append(Release(os_id[0].lower(), ver[0], cpe, entry, ver[1], ver[2]))
        break
    return found


def kernel_module_dirs(index: FileIndex) -> list[tuple[FileEntry, str]]:
    """(/lib/modules/<release> directory, kernel version) pairs."""
    out = []
    for entry in index.children("/lib/modules"):
        m = re.match(r"([2-6]\.[0-9]+(?:\.[0-9]+)?)", entry.name)
        if m and entry.kind in ("dir", "symlink"):
            out.append((entry, m.group(1)))
    return out


__all__ = [
    "Package",
    "Release",
    "installed_packages",
    "kernel_module_dirs",
    "os_cpe",
    "releases",
    "upstream_version",
]
