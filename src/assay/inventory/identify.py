"""Component identification: binaries, package databases, release files, kernel module trees.

Every component carries the evidence for its version. A file that is plainly part of a
component but holds no version of its own (libssl next to libcrypto, a lighttpd module,
libresolv next to libc) takes the version its siblings prove, and says so in its evidence.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from packageurl import PackageURL

from assay.index import FileIndex
from assay.inventory.binaries import Hit, scan_binaries
from assay.inventory.catalogue import Catalogue, Signature, cpe_escape, generic_purl, load_catalogue
from assay.inventory.packages import (
    Package,
    installed_packages,
    kernel_module_dirs,
    os_cpe,
    releases,
    upstream_version,
)
from assay.model import Component, VersionEvidence
from assay.unpack.base import Layer

# The uImage handler's note: "kernel 'Linux-4.14.180', compression gzip, ..."
_UIMAGE_KERNEL = re.compile(r"^kernel '(?:Linux|linux)[- ]?(?P<v>[2-6]\.[0-9]+(?:\.[0-9]+)?)")


@dataclass
class _Acc:
    name: str
    version: str | None
    purl: str | None
    cpe: str | None
    paths: dict[str, str | None] = field(default_factory=dict)  # path -> sha256
    evidence: list[VersionEvidence] = field(default_factory=list)

    def add(self, path: str, sha256: str | None, ev: VersionEvidence | None) -> None:
        self.paths.setdefault(path, sha256)
        if ev is not None and ev not in self.evidence:
            self.evidence.append(ev)


# (name, version, purl, cpe) -> the accumulator of that component
_Get = Callable[[str, str | None, str | None, str | None], _Acc]


def identify_components(index: FileIndex, layers: Sequence[Layer] = ()) -> list[Component]:
    """Components of the indexed files; `layers` (from the unpacker) adds a bare kernel uImage."""
    cat = load_catalogue()
    acc: dict[tuple[str, str | None], _Acc] = {}

    def get(name: str, version: str | None, purl: str | None, cpe: str | None) -> _Acc:
        key = (name, version)
        if key not in acc:
            acc[key] = _Acc(name, version, purl, cpe)
        elif (
            purl and (acc[key].purl or "").startswith("pkg:generic/") and not purl.startswith("pkg:generic/")
        ):
            acc[key].purl = purl  # a package database names the package more precisely
        return acc[key]

    hits = scan_binaries(index, cat)
    _inherit_versions(hits)
    for hit in hits:
        ev = hit.evidence or hit.marker
        comp = get(hit.sig.name, hit.version, hit.sig.purl(hit.version), hit.sig.cpe(hit.version))
        comp.add(hit.entry.path, hit.entry.sha256, ev)

    distro = _distro_qualifier(index)
    for pkg in installed_packages(index):
        _add_package(pkg, cat, distro, index, get)

    for rel in releases(index):
        vendor_product = os_cpe(rel.id)
        sig = cat.by_release(rel.id)
        cpe = rel.cpe if rel.cpe and rel.cpe.startswith("cpe:2.3:") else None
        if cpe is None and vendor_product:
            cpe = f"cpe:2.3:o:{vendor_product[0]}:{vendor_product[1]}:{cpe_escape(rel.version)}:*:*:*:*:*:*:*"
        name = sig.name if sig else rel.id
        ev = VersionEvidence(rel.entry.path, rel.entry.sha256 or "", rel.offset, rel.line, "version-file")
        get(name, rel.version, generic_purl(name, rel.version), cpe).add(rel.entry.path, rel.entry.sha256, ev)

    linux = cat.by_name("linux")
    if linux is not None:
        for entry, version in kernel_module_dirs(index):
            ev = VersionEvidence(entry.path, "", None, entry.name, "module-directory")
            get("linux", version, linux.purl(version), linux.cpe(version)).add(entry.path, None, ev)
        # A kernel uImage outside every filesystem leaves only its header name in the layers.
        for layer in layers:
            m = _UIMAGE_KERNEL.search(layer.note or "") if layer.handler == "uimage" else None
            if m:
                version = m.group("v")
                ev = VersionEvidence("/", "", layer.offset, m.group(0), "image-layer")
                comp = get("linux", version, linux.purl(version), linux.cpe(version))
                if ev not in comp.evidence:
                    comp.evidence.append(ev)

    # A versionless component adds nothing when the same files are already versioned.
    versioned_paths = {(a.name, p) for a in acc.values() if a.version for p in a.paths}
    out: list[Component] = []
    for a in acc.values():
        if a.version is None:
            for p in list(a.paths):
                if (a.name, p) in versioned_paths:
                    del a.paths[p]
            a.evidence = [e for e in a.evidence if e.path in a.paths]
            if not a.paths:
                continue
        out.append(
            Component(
                name=a.name,
                version=a.version,
                purl=a.purl,
                cpe=a.cpe,
                paths=sorted(a.paths),
                evidence=sorted(a.evidence, key=lambda e: (e.path, e.offset or 0)),
                hashes={p: h for p, h in sorted(a.paths.items()) if h},
            )
        )
    out.sort(key=lambda c: (c.name, c.version or ""))
    return out


def _inherit_versions(hits: list[Hit]) -> None:
    """Give versionless member files the version their siblings prove, when it is unambiguous."""
    versioned = [h for h in hits if h.version]
    for hit in hits:
        if hit.version is not None:
            continue
        same = [h for h in versioned if h.sig.name == hit.sig.name]
        directory = posixpath.dirname(hit.entry.path)
        for scope in (
            [h for h in same if h.entry.fs == hit.entry.fs and posixpath.dirname(h.entry.path) == directory],
            [h for h in same if h.entry.fs == hit.entry.fs],
            same,
        ):
            versions = {h.version for h in scope}
            if len(versions) == 1:
                source = min(scope, key=lambda h: h.entry.path)
                hit.version = source.version
                hit.inherited_from = [source.entry.path]
                marker = hit.marker
                hit.evidence = VersionEvidence(
                    hit.entry.path,
                    hit.entry.sha256 or "",
                    marker.offset if marker else None,
                    f"{marker.match if marker else hit.entry.name}; version {source.version} "
                    f"from {source.entry.path}",
                    "sibling",
                )
                break
            if len(versions) > 1:
                break


def _distro_qualifier(index: FileIndex) -> str | None:
    for rel in releases(index):
        return f"{rel.id}-{rel.version}"
    return None


def _add_package(pkg: Package, cat: Catalogue, distro: str | None, index: FileIndex, get: _Get) -> None:
    sig: Signature | None = cat.by_package(pkg.name)
    version = upstream_version(pkg.version)
    if sig is not None:
        version = sig.normalise(version)
    qualifiers = {k: v for k, v in (("arch", pkg.arch), ("distro", distro)) if v}
    namespace = {"dpkg": "debian", "opkg": "openwrt", "apk": "alpine"}[pkg.manager]
    ptype = {"dpkg": "deb", "opkg": "opkg", "apk": "apk"}[pkg.manager]
    purl = str(
        PackageURL(type=ptype, namespace=namespace, name=pkg.name, version=pkg.version, qualifiers=qualifiers)
    )
    name = sig.name if sig else pkg.name
    cpe = sig.cpe(version) if sig else None
    comp = get(name, version, purl, cpe)
    ev = VersionEvidence(pkg.source.path, pkg.source.sha256 or "", pkg.offset, pkg.line, "package-db")
    comp.add(pkg.source.path, pkg.source.sha256, ev)
    for path in pkg.installed_files:
        entry = index.get(path)
        if entry is not None and entry.is_file:
            comp.add(entry.path, entry.sha256, None)


__all__ = ["identify_components"]
