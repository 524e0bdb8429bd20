"""Package databases (opkg, dpkg, status.d), release files and upstream versions."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assay.index import FileIndex
from assay.inventory import identify
from assay.inventory.packages import upstream_version
from assay.model import Component

Index = Callable[..., FileIndex]

OPENWRT_RELEASE = """DISTRIB_ID='OpenWrt'
DISTRIB_RELEASE='22.03.5'
DISTRIB_REVISION='r20134-5f15225c1e'
DISTRIB_TARGET='ramips/mt7621'
DISTRIB_ARCH='mipsel_24kc'
"""

OPKG_STATUS = """Package: dropbear
Version: 2022.82-2
Depends: libc
Status: install user installed
Architecture: mipsel_24kc
Installed-Time: 1683000000

Package: libustream-wolfssl20201210
Version: 2022-01-16-868fd881-2
Status: install ok installed
Architecture: mipsel_24kc

Package: wget-ssl
Version: 1.21.3-1
Status: deinstall ok not-installed
Architecture: mipsel_24kc

Package: busybox
Version: 1.35.0-3
Status: install user installed
Architecture: mipsel_24kc
"""

DPKG_STATUS = """Package: busybox
Status: install ok installed
Priority: optional
Architecture: mipsel
Version: 1:1.35.0-4+deb12u1+b1
Description: Tiny utilities for small and embedded systems
 BusyBox combines tiny versions of many common UNIX utilities into a single
 small executable.

Package: zlib1g
Status: install ok installed
Architecture: mipsel
Source: zlib
Version: 1:1.2.13.dfsg-1

Package: libc6
Status: install ok installed
Architecture: mipsel
Version: 2.36-9+deb12u4

Package: openssh-server
Status: deinstall ok config-files
Architecture: mipsel
Version: 1:9.2p1-2+deb12u2
"""


def pairs(components: list[Component]) -> set[tuple[str, str | None]]:
    return {(c.name, c.version) for c in components}


def test_opkg_status_with_file_lists(index_of: Index) -> None:
    index = index_of(
        {
            "/usr/lib/opkg/status": OPKG_STATUS,
            "/usr/lib/opkg/info/dropbear.list": "/usr/sbin/dropbear\n/etc/init.d/dropbear\n",
            "/usr/sbin/dropbear": b"\x7fELF not really a program",
            "/etc/init.d/dropbear": "#!/bin/sh /etc/rc.common\nSTART=19\n",
            "/etc/openwrt_release": OPENWRT_RELEASE,
        }
    )
    comps = {c.name: c for c in identify(index)}
    assert pairs(list(comps.values())) >= {
        ("dropbear", "2022.82"),
        ("busybox", "1.35.0"),
        ("openwrt", "22.03.5"),
    }
    assert "wget" not in comps  # removed packages stay in the status file
    db = comps["dropbear"]
    assert db.purl == "pkg:opkg/openwrt/dropbear@2022.82-2?arch=mipsel_24kc&distro=openwrt-22.03.5"
    assert db.cpe == "cpe:2.3:a:dropbear_ssh_project:dropbear_ssh:2022.82:*:*:*:*:*:*:*"
    assert db.paths == ["/etc/init.d/dropbear", "/usr/lib/opkg/status", "/usr/sbin/dropbear"]
    (ev,) = db.evidence
    assert (ev.path, ev.source) == ("/usr/lib/opkg/status", "package-db")
    assert OPKG_STATUS.encode()[ev.offset or 0 :].startswith(b"Package: dropbear")
    # A package outside the catalogue keeps its package name and gets no guessed CPE.
    ustream = comps["libustream-wolfssl20201210"]
    assert (ustream.version, ustream.cpe) == ("2022-01-16-868fd881", None)
    assert comps["openwrt"].cpe == "cpe:2.3:o:openwrt:openwrt:22.03.5:*:*:*:*:*:*:*"


def test_opkg_control_files_without_status(index_of: Index) -> None:
    control = "Package: dnsmasq\nVersion: 2.86-14\nArchitecture: mips_24kc\nInstalled-Size: 150000\n"
    index = index_of({"/usr/lib/opkg/info/dnsmasq.control": control, "/usr/lib/opkg/info/dnsmasq.list": ""})
    (comp,) = identify(index)
    assert (comp.name, comp.version) == ("dnsmasq", "2.86")
    assert comp.purl == "pkg:opkg/openwrt/dnsmasq@2.86-14?arch=mips_24kc"


def test_dpkg_status_and_os_release(index_of: Index) -> None:
    os_release = (
        'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
    )
    index = index_of(
        {
            "/var/lib/dpkg/status": DPKG_STATUS,
            "/var/lib/dpkg/info/libc6:mipsel.list": "/lib/mipsel-linux-gnu/libc.so.6\n",
            "/lib/mipsel-linux-gnu/libc.so.6": b"\x7fELF stand-in",
            "/etc/os-release": os_release,
        }
    )
    comps = {c.name: c for c in identify(index)}
    assert pairs(list(comps.values())) == {
        ("busybox", "1.35.0"),
        ("zlib", "1.2.13"),
        ("glibc", "2.36"),
        ("debian", "12"),
    }
    assert (
        comps["busybox"].purl
        == "pkg:deb/debian/busybox@1:1.35.0-4%2Bdeb12u1%2Bb1?arch=mipsel&distro=debian-12"
    )
    assert comps["glibc"].cpe == "cpe:2.3:a:gnu:glibc:2.36:*:*:*:*:*:*:*"
    assert "/lib/mipsel-linux-gnu/libc.so.6" in comps["glibc"].paths
    assert comps["debian"].cpe == "cpe:2.3:o:debian:debian_linux:12:*:*:*:*:*:*:*"


def test_dpkg_status_d_directory(index_of: Index) -> None:
    stanza = "Package: libssl3\nVersion: 3.0.11-1~deb12u2\nArchitecture: arm64\n"
    index = index_of(
        {"/var/lib/dpkg/status.d/libssl3": stanza, "/var/lib/dpkg/status.d/libssl3.md5sums": "x"}
    )
    (comp,) = identify(index)
    assert (comp.name, comp.version, comp.cpe) == (
        "openssl",
        "3.0.11",
        "cpe:2.3:a:openssl:openssl:3.0.11:*:*:*:*:*:*:*",
    )
    assert comp.evidence[0].path == "/var/lib/dpkg/status.d/libssl3"


def test_package_db_and_binary_merge_into_one_component(index_of: Index) -> None:
    banner = b"\0BusyBox v1.35.0 (2023-01-01 00:00:00 UTC) multi-call binary.\0"
    index = index_of(
        {
            "/var/lib/dpkg/status": DPKG_STATUS,
            "/var/lib/dpkg/info/busybox.list": "/bin/busybox\n",
            "/bin/busybox": b"\x7fELF\x01\x01\x01" + b"\0" * 100 + banner,
        }
    )
    (bb,) = [c for c in identify(index) if c.name == "busybox"]
    assert bb.version == "1.35.0"
    assert bb.purl is not None and bb.purl.startswith("pkg:deb/debian/busybox@")
    assert {e.source for e in bb.evidence} == {"binary-string", "package-db"}


@pytest.mark.parametrize(
    ("packaged", "upstream"),
    [
        ("1:1.35.0-4+deb12u1+b1", "1.35.0"),
        ("1:1.2.13.dfsg-1", "1.2.13"),
        ("2.9.14+dfsg-1.3~deb12u1", "2.9.14"),
        ("1:9.2p1-2+deb12u2", "9.2p1"),
        ("2022.82-2", "2022.82"),
        ("1.36.1-r2", "1.36.1"),
        ("3.0.11-1~deb12u2", "3.0.11"),
        ("2.36", "2.36"),
        ("1.0.2k", "1.0.2k"),
    ],
)
def test_upstream_version(packaged: str, upstream: str) -> None:
    assert upstream_version(packaged) == upstream


def test_modules_directory_alone_names_the_kernel(index_of: Index) -> None:
    index = index_of({"/lib/modules/4.14.241/modules.dep": "kernel/fs/foo.ko:\n"}, dirs=("/lib/modules/4.9",))
    linux = sorted(c.version or "" for c in identify(index) if c.name == "linux")
    assert linux == ["4.14.241", "4.9"]


def test_named_openwrt_release_kernel_package_and_forks(index_of: Index) -> None:
    release = 'DISTRIB_ID="OpenWrt"\nDISTRIB_RELEASE="Barrier Breaker"\nDISTRIB_DESCRIPTION="OpenWrt Barrier Breaker 14.07"\n'
    status = (
        "Package: kernel\nVersion: 3.10.14-p112871-1-dd43e6144d470720c2db96a57be0523a\nStatus: install user installed\n\n"
        "Package: base-files\nVersion: 156-unknown\nStatus: install user installed\n\n"
        "Package: libnl-tiny\nVersion: 0.1-3\nStatus: install user installed\n"
    )
    index = index_of(
        {"/etc/openwrt_release": release, "/usr/lib/opkg/status": status}, dirs=("/lib/modules/3.10.14",)
    )
    comps = {(c.name, c.version): c for c in identify(index)}
    assert set(comps) == {
        ("openwrt", "14.07"),
        ("linux", "3.10.14"),
        ("base-files", "156-unknown"),
        ("libnl-tiny", "0.1"),
    }
    assert comps[("openwrt", "14.07")].cpe == "cpe:2.3:o:openwrt:openwrt:14.07:*:*:*:*:*:*:*"
    # The kernel package and the modules directory agree, so they are one component.
    assert {e.source for e in comps[("linux", "3.10.14")].evidence} == {"package-db", "module-directory"}
    # OpenWrt's libnl-tiny is its own project: no CPE of the upstream libnl.
    assert comps[("libnl-tiny", "0.1")].cpe is None
