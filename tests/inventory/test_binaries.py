"""Versions read from compiled programs and libraries: banners, siblings, merging, quoted libraries."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from pathlib import Path

from assay.index import FileIndex
from assay.inventory import identify
from assay.model import Component

Build = Callable[..., bytes]
Index = Callable[..., FileIndex]

BUSYBOX = "BusyBox v1.36.1 (2023-06-01 10:00:00 UTC) multi-call binary."
DROPBEAR = "SSH-2.0-dropbear_2022.83"
ZLIB = " deflate 1.2.13 Copyright 1995-2022 Jean-loup Gailly and Mark Adler "
OPENSSL = "OpenSSL 3.0.11 19 Sep 2023"


def kernel_uimage(payload: Path, name: str, compression: str) -> Path:
    out = payload.with_suffix(".uimage")
    opts = {"-A": "mips", "-O": "linux", "-T": "kernel", "-C": compression, "-a": "0", "-e": "0", "-n": name}
    args = [x for kv in opts.items() for x in kv]
    subprocess.run(["mkimage", *args, "-d", str(payload), str(out)], check=True, capture_output=True)
    return out


def by_name(components: list[Component]) -> dict[str, list[Component]]:
    out: dict[str, list[Component]] = {}
    for c in components:
        out.setdefault(c.name, []).append(c)
    return out


def test_banners_in_programs_and_libraries(build_c: Build, index_of: Index) -> None:
    busybox = build_c((BUSYBOX, "BusyBox is a multi-call binary"))
    dropbear = build_c((DROPBEAR, "Dropbear server"))
    libz = build_c((ZLIB,), shared_soname="libz.so.1")
    index = index_of({"/bin/busybox": busybox, "/usr/sbin/dropbear": dropbear, "/lib/libz.so.1.2.13": libz})
    comps = {c.name: c for c in identify(index)}

    assert {n: c.version for n, c in comps.items()} == {
        "busybox": "1.36.1",
        "dropbear": "2022.83",
        "zlib": "1.2.13",
    }
    bb = comps["busybox"]
    assert bb.purl == "pkg:generic/busybox@1.36.1"
    assert bb.cpe == "cpe:2.3:a:busybox:busybox:1.36.1:*:*:*:*:*:*:*"
    assert bb.paths == ["/bin/busybox"]
    assert bb.hashes == {"/bin/busybox": hashlib.sha256(busybox).hexdigest()}
    assert comps["dropbear"].cpe == "cpe:2.3:a:dropbear_ssh_project:dropbear_ssh:2022.83:*:*:*:*:*:*:*"
    # The evidence points at the very bytes that carry the version.
    for comp, data in ((bb, busybox), (comps["dropbear"], dropbear), (comps["zlib"], libz)):
        (ev,) = comp.evidence
        assert ev.source == "binary-string"
        assert ev.offset is not None
        assert data[ev.offset : ev.offset + len(ev.match)] == ev.match.encode()
        assert comp.version in ev.match


def test_cross_compiled_mipsel(build_c: Build, index_of: Index) -> None:
    dnsmasq = build_c(("dnsmasq-2.90", "Dnsmasq version %s  %s\n"), cc="mipsel-linux-gnu-gcc")
    assert dnsmasq[18] == 8  # EM_MIPS, little-endian e_machine
    index = index_of({"/usr/sbin/dnsmasq": dnsmasq})
    (comp,) = identify(index)
    assert (comp.name, comp.version) == ("dnsmasq", "2.90")
    assert comp.cpe == "cpe:2.3:a:thekelleys:dnsmasq:2.90:*:*:*:*:*:*:*"


def test_library_without_banner_takes_its_siblings_version(build_c: Build, index_of: Index) -> None:
    libcrypto = build_c((OPENSSL,), shared_soname="libcrypto.so.3")
    libssl = build_c("int SSL_CTX_new(void) { return 3; }\n", shared_soname="libssl.so.3")
    index = index_of({"/usr/lib/libcrypto.so.3": libcrypto, "/usr/lib/libssl.so.3": libssl})
    (comp,) = identify(index)
    assert (comp.name, comp.version) == ("openssl", "3.0.11")
    assert comp.paths == ["/usr/lib/libcrypto.so.3", "/usr/lib/libssl.so.3"]
    sources = {e.path: e.source for e in comp.evidence}
    assert sources == {"/usr/lib/libcrypto.so.3": "binary-string", "/usr/lib/libssl.so.3": "sibling"}
    sibling = next(e for e in comp.evidence if e.source == "sibling")
    assert "/usr/lib/libcrypto.so.3" in sibling.match


def test_library_version_quoted_by_another_program_is_not_that_library(
    build_c: Build, index_of: Index, tmp_path: Path
) -> None:
    # curl quotes the OpenSSL it was built against; it links libssl dynamically.
    build_c("int SSL_CTX_new(void) { return 3; }\n", shared_soname="libssl.so.3")
    curl = build_c(
        ("curl 8.4.0 (x86_64-pc-linux-gnu) libcurl/8.4.0 OpenSSL/3.0.11 zlib/1.2.13", OPENSSL),
        link=(tmp_path / "libssl.so.3",),
    )
    assert b"\0libssl.so.3\0" in curl
    index = index_of({"/usr/bin/curl": curl})
    comps = by_name(identify(index))
    assert [(c.name, c.version) for c in comps["curl"]] == [("curl", "8.4.0")]
    assert "openssl" not in comps
    assert "zlib" not in comps


def test_same_component_merges_across_files_and_splits_by_version(build_c: Build, index_of: Index) -> None:
    old = build_c(("BusyBox v1.35.0 (2022-12-01) multi-call binary.",))
    new = build_c((BUSYBOX,))
    index = index_of({"/bin/busybox": new, "/rescue/busybox": new, "/opt/legacy/bin/busybox": old})
    comps = by_name(identify(index))["busybox"]
    assert {c.version: c.paths for c in comps} == {
        "1.35.0": ["/opt/legacy/bin/busybox"],
        "1.36.1": ["/bin/busybox", "/rescue/busybox"],
    }


def test_versions_in_text_files_are_not_binary_evidence(index_of: Index) -> None:
    # A completion script carries a program's own name, and quotes an old release.
    completion = "# supported since ipset v6.20\n"
    files = {"/www/help.html": f"<p>{BUSYBOX}</p>", "/etc/motd": DROPBEAR + "\n"}
    index = index_of({**files, "/usr/share/bash-completion/completions/ipset": completion})
    assert identify(index) == []


def test_kernel_banner_modules_and_uimage(index_of: Index, tmp_path: Path) -> None:
    vmlinux = (
        b"\0" * 512 + b"Linux version 5.15.134 (builder@buildhost) (gcc (GCC) 12.3.0) #0 SMP\n\0" + b"\0" * 64
    )
    module = b"\x7fELF" + b"\0" * 60 + b"vermagic=5.15.134 SMP mod_unload MIPS32_R2 32BIT \0license=GPL\0"
    payload = tmp_path / "payload.bin"
    payload.write_bytes(b"\x1f\x8b" + b"kernel body" * 64)
    uimage = kernel_uimage(payload, "Linux-4.14.180", "gzip")
    index = index_of(
        {
            "/boot/vmlinux": vmlinux,
            "/lib/modules/5.15.134/kernel/net/foo.ko": module,
            "/boot/uImage": uimage.read_bytes(),
        }
    )
    linux = {c.version: c for c in identify(index) if c.name == "linux"}
    assert set(linux) == {"5.15.134", "4.14.180"}
    current = linux["5.15.134"]
    assert current.cpe == "cpe:2.3:o:linux:linux_kernel:5.15.134:*:*:*:*:*:*:*"
    assert {"/boot/vmlinux", "/lib/modules/5.15.134", "/lib/modules/5.15.134/kernel/net/foo.ko"} <= set(
        current.paths
    )
    assert {e.source for e in current.evidence} == {"binary-string", "module-directory"}
    (ev,) = linux["4.14.180"].evidence
    assert (ev.path, ev.offset, ev.match) == ("/boot/uImage", 32, "Linux-4.14.180")


def test_kernel_uimage_outside_the_filesystems_is_named_by_its_layer(
    make_squashfs: Callable[..., Path], tmp_path: Path
) -> None:
    from assay.pipeline import ScanOptions, scan

    rootfs = make_squashfs({"/etc/banner": "hello\n"})
    kernel = tmp_path / "kernel.bin"
    kernel.write_bytes(b"\x1f\x8b" + bytes(range(256)) * 8)
    uimage = kernel_uimage(kernel, "Linux-5.10.176", "none")
    firmware = tmp_path / "fw.bin"
    blob = uimage.read_bytes()
    firmware.write_bytes(blob + b"\xff" * (-len(blob) % 4096) + rootfs.read_bytes())
    report = scan(firmware, ScanOptions(only_checks=["none"])).to_dict()
    (linux,) = [c for c in report["components"] if c["name"] == "linux"]
    assert linux["version"] == "5.10.176"
    (ev,) = linux["evidence"]
    assert (ev["path"], ev["offset"], ev["source"]) == ("/", 0, "image-layer")
    assert "Linux-5.10.176" in ev["match"]


def test_version_printed_through_a_format_string(build_c: Build, index_of: Index) -> None:
    # Old dnsmasq keeps VERSION apart from "dnsmasq-"; only its own file is read that way.
    dnsmasq = build_c(("dnsmasq version %s", "1.10", "/etc/dnsmasq.conf"), cc="mipsel-linux-gnu-gcc")
    index = index_of({"/usr/sbin/dnsmasq": dnsmasq, "/usr/sbin/other": dnsmasq})
    assert [(c.name, c.version, c.paths) for c in identify(index)] == [
        ("dnsmasq", "1.10", ["/usr/sbin/dnsmasq"])
    ]
