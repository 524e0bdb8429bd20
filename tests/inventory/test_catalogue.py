"""The signature catalogue: coverage, well-formed entries, patterns that extract what they claim."""

from __future__ import annotations

import re

import pytest

from assay.inventory.catalogue import cpe_escape, load_catalogue

REQUIRED = [
    "busybox",
    "dropbear",
    "openssh",
    "openssl",
    "libressl",
    "wolfssl",
    "mbedtls",
    "curl",
    "wget",
    "dnsmasq",
    "lighttpd",
    "uhttpd",
    "boa",
    "goahead",
    "mini_httpd",
    "thttpd",
    "hostapd",
    "wpa_supplicant",
    "iptables",
    "nftables",
    "ppp",
    "xl2tpd",
    "strongswan",
    "openvpn",
    "samba",
    "miniupnpd",
    "avahi",
    "ntp",
    "chrony",
    "zlib",
    "libpng",
    "libjpeg",
    "sqlite",
    "expat",
    "libxml2",
    "json-c",
    "ubus",
    "uci",
    "netifd",
    "glibc",
    "uclibc",
    "uclibc-ng",
    "musl",
    "linux",
    "u-boot",
    "vsftpd",
    "proftpd",
    "net-snmp",
    "quagga",
    "bird",
    "frr",
    "tcpdump",
    "libpcap",
    "iproute2",
]


def test_catalogue_covers_the_common_router_components() -> None:
    cat = load_catalogue()
    names = [s.name for s in cat.signatures]
    assert len(names) == len(set(names))
    assert len(names) >= 80
    assert set(REQUIRED) <= set(names)


def test_every_entry_is_well_formed() -> None:
    cat = load_catalogue()
    packages: dict[str, str] = {}
    for sig in cat.signatures:
        assert sig.part in ("a", "o"), sig.name
        assert re.fullmatch(r"[a-z0-9_.\-]+", sig.vendor) and re.fullmatch(r"[a-z0-9_.\-+]+", sig.product), (
            sig.name
        )
        # Something must identify it: a pattern, a package, a file hint with a marker, a release id.
        assert (
            sig.patterns
            or sig.hinted
            or sig.packages
            or sig.filename_version
            or sig.markers
            or sig.release_ids
        ), sig.name
        for pattern in (*sig.patterns, *sig.hinted):
            assert "v" in pattern.groupindex, (sig.name, pattern.pattern)
        for pkg in sig.packages:
            assert packages.setdefault(pkg, sig.name) == sig.name, f"{pkg} claimed twice"
        for other in sig.excluded_by:
            assert cat.by_name(other) is not None, (sig.name, other)


@pytest.mark.parametrize(
    ("name", "text", "version"),
    [
        ("busybox", b"\0BusyBox v1.36.1 (2023-06-01) multi-call binary\0", "1.36.1"),
        ("openssl", b"\0OpenSSL 1.0.2k-fips  26 Jan 2017\0", "1.0.2k"),
        ("openssl", b"\0OpenSSL 3.0.11 19 Sep 2023\0", "3.0.11"),
        ("dropbear", b"\0SSH-2.0-dropbear_2020.81\0", "2020.81"),
        ("dnsmasq", b"\0dnsmasq-2.80\0", "2.80"),
        ("zlib", b" deflate 1.2.11 Copyright 1995-2017 Jean-loup Gailly and Mark Adler ", "1.2.11"),
        ("curl", b"\0libcurl/7.88.1\0", "7.88.1"),
        ("lighttpd", b"\0lighttpd/1.4.69\0", "1.4.69"),
        ("glibc", b"GNU C Library (Debian GLIBC 2.36-9+deb12u4) stable release version 2.36.\n", "2.36"),
        ("linux", b"Linux version 4.14.180 (builder@host) (gcc version 8.4.0) #0 SMP", "4.14.180"),
        ("hostapd", b"hostapd v2.10\nUser space daemon", "2.10"),
        ("u-boot", b"\0U-Boot 2023.01 (Jan 01 2023 - 00:00:00 +0000)\0", "2023.01"),
        ("ntp", b"\0ntpd 4.2.8p15@1.3728-o Wed Sep 23 11:46:38 UTC 2020 (1)\0", "4.2.8p15"),
        ("sqlite", b"\0SQLite version 3.40.1\0", "3.40.1"),
        ("e2fsprogs", b"\x005-Feb-2023\0\x001.47.0\0\0e4defrag %s (%s)\n\0", "1.47.0"),
        ("ntpsec", b"\0\x001.2.2\0\0\0ntpd ntpsec-%s\0", "1.2.2"),
        ("wolfssl", b"./src/pk.c\0\0wolfSSL 5.5.4\0\0\0FFDHE_4096", "5.5.4"),
        ("dhcpcd", b"\0dhcpcd-9.4.1 starting\0", "9.4.1"),
        ("mtd-utils", b"ubinfo version 2.1.5 - a tool to print UBI information.", "2.1.5"),
    ],
)
def test_patterns_extract_the_version(name: str, text: bytes, version: str) -> None:
    sig = load_catalogue().by_name(name)
    assert sig is not None
    found = {sig.normalise(m.group("v").decode()) for p in sig.patterns for m in p.finditer(text)}
    assert found == {version}


def test_yara_pass_finds_every_pattern_literal() -> None:
    cat = load_catalogue()
    text = b"\0BusyBox v1.36.1 (x)\0" + b"\0" * 100 + b"\0dnsmasq-2.90\0"
    hit = {
        cat.signatures[cat.rule_map[s.identifier][0]].name
        for m in cat.rules.match(data=text)
        for s in m.strings
    }
    assert hit == {"busybox", "dnsmasq"}


def test_cpe_escape() -> None:
    assert cpe_escape("1.0.2k") == "1.0.2k"
    assert cpe_escape("2.4.7+p1:x") == "2.4.7\\+p1\\:x"
