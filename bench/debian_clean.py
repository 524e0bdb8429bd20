#!/usr/bin/env python3
"""The back-door hunt on real, clean Debian programs of four architectures: what does it report?

    python bench/debian_clean.py [--debs ~/.cache/assay-bench/debs] [--arch arm64 ...]

Takes the .deb files `bench/versions.py` downloads (27 router-like packages: busybox, dropbear,
openssh-server, hostapd, dnsmasq, lighttpd, openvpn, curl, openssl, ... for amd64, arm64, armel
and mipsel) and, with --extra, downloads 35 more into the same folder (FTP, PPP, SNMP, VPN,
Samba client tools, telnetd, inetd, mosquitto, socat, ...; the foreign architectures must be
known to dpkg, as versions.py leaves them), unpacks every package of one architecture into one
tree with `dpkg-deb -x`, scans
it with the nine back-door categories' checks, and prints each finding. Debian's packages hold
no back doors, so every finding is either a false positive or something the package really
ships (OpenVPN's published sample keys under /usr/share/doc, the test keys compiled into
`openssl`); the script marks findings under /usr/share/doc and info-level ones as expected and
exits 1 when anything else is reported.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from scans import HUNT_ONLY, scan

from assay.model import BACKDOOR_CATEGORIES

EXTRA = [
    "vsftpd",
    "proftpd-core",
    "ppp",
    "pppoe",
    "snmpd",
    "libsnmp40",
    "strongswan-charon",
    "libstrongswan",
    "ntpsec-ntpdate",
    "avahi-daemon",
    "libavahi-core7",
    "mosquitto",
    "lldpd",
    "radvd",
    "socat",
    "netcat-openbsd",
    "inetutils-telnetd",
    "xinetd",
    "wireguard-tools",
    "nftables",
    "ebtables",
    "conntrack",
    "iw",
    "wireless-tools",
    "udhcpd",
    "isc-dhcp-client",
    "mini-httpd",
    "samba-common-bin",
    "smbclient",
    "openssh-client",
    "sudo",
    "login",
    "passwd",
    "libpam-modules",
]


def download_extra(debs: Path, arch: str) -> None:
    """apt-get download each EXTRA package of this architecture not yet in the folder."""
    debs.mkdir(parents=True, exist_ok=True)
    for pkg in EXTRA:
        if not list(debs.glob(f"{pkg}_*_{arch}.deb")):
            subprocess.run(["apt-get", "download", f"{pkg}:{arch}"], cwd=debs, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    cache_home = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--debs", type=Path, default=cache_home / "assay-bench" / "debs")
    ap.add_argument(
        "--arch", action="append", default=None, help="amd64, arm64, armel, mipsel (default: all)"
    )
    ap.add_argument("--extra", action="store_true", help="download and scan the EXTRA packages too")
    args = ap.parse_args(argv)
    arches = args.arch or ["amd64", "arm64", "armel", "mipsel"]
    if args.extra:
        for arch in arches:
            download_extra(args.debs, arch)
    unexpected = 0
    with tempfile.TemporaryDirectory(prefix="assay-debian-") as tmp:
        for arch in arches:
            debs = sorted(args.debs.glob(f"*_{arch}.deb"))
            if not debs:
                print(f"{arch}: no .deb files in {args.debs} (run bench/versions.py first)", file=sys.stderr)
                return 3
            root = Path(tmp) / arch
            root.mkdir()
            for deb in debs:
                subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
            out = Path(tmp) / f"{arch}.json"
            wall, _cpu, report, error = scan(root, out, extra=HUNT_ONLY)
            if report is None:
                print(f"{arch}: scan failed: {error}")
                unexpected += 1
                continue
            files = sum(1 for f in report["files"] if f.get("kind") == "file")
            print(
                f"{arch}: {len(debs)} packages, {files} files, {wall:.1f} s, {len(report['findings'])} findings"
            )
            for f in report["findings"]:
                expected = (
                    f["path"].startswith("/usr/share/doc/")
                    or f["severity"] == "info"
                    or f["category"] not in BACKDOOR_CATEGORIES
                )
                unexpected += not expected
                mark = "expected" if expected else "UNEXPECTED"
                print(f"  {mark:<10} {f['rule']:<22} {f['severity']:<8} {f['path']}  {f['title'][:70]}")
    print(f"\n{unexpected} unexpected finding(s)")
    return 1 if unexpected else 0


if __name__ == "__main__":
    raise SystemExit(main())
