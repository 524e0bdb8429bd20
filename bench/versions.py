"""Benchmark: version detection on real Debian binaries, Assay against cve-bin-tool.

Downloads real Debian packages for several architectures with `apt-get download` (cached),
extracts each with `dpkg-deb -x`, and asks both tools which (component, version) pairs each
extracted package holds. The ground truth is the package's upstream version (no epoch, no
Debian revision, no repack suffix) under the upstream project name in TRUTH_NAMES.

Assay: `assay.inventory.identify` on a FileIndex of each tree (index + inventory timed).
cve-bin-tool: its checkers through `VersionScanner.recursive_scan` on the same trees, in its
own venv (`python3 -m venv /tmp/cbt-venv && /tmp/cbt-venv/bin/pip install cve-bin-tool`); its
CLI needs the NVD database, the scanner alone does not. Both are timed on the scan loop only.

    .venv/bin/python bench/versions.py [--arch amd64 --arch arm64 ...] [--cache DIR] [--no-cbt] [-v]

Needs root for `dpkg --add-architecture` and `apt-get update` (done once, when an
architecture is new or a download fails).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from assay.index import build_index
from assay.inventory import identify
from assay.unpack import index_directory

ARCHES = ("amd64", "arm64", "armel", "mipsel")

# Debian binary package -> upstream project name as Assay reports it.
TRUTH_NAMES = {
    "busybox": "busybox",
    "curl": "curl",
    "libcurl4": "curl",
    "dnsmasq-base": "dnsmasq",
    "dropbear-bin": "dropbear",
    "libc6": "glibc",
    "libssl3": "openssl",
    "openssl": "openssl",
    "lighttpd": "lighttpd",
    "zlib1g": "zlib",
    "libtomcrypt1": "libtomcrypt",
    "libtommath1": "libtommath",
    "libcrypt1": "libxcrypt",
    "libgcc-s1": "gcc",
    "iptables": "iptables",
    "hostapd": "hostapd",
    "wpasupplicant": "wpa_supplicant",
    "libsqlite3-0": "sqlite",
    "libexpat1": "expat",
    "libxml2": "libxml2",
    "libpng16-16": "libpng",
    "libjpeg62-turbo": "libjpeg-turbo",
    "openssh-server": "openssh",
    "openvpn": "openvpn",
    "tcpdump": "tcpdump",
    "libpcap0.8": "libpcap",
    "iproute2": "iproute2",
}

# cve-bin-tool product -> the same upstream names, so both tools are judged alike.
CBT_NAMES = {
    "busybox": "busybox",
    "curl": "curl",
    "libcurl": "curl",
    "dnsmasq": "dnsmasq",
    "dropbear_ssh": "dropbear",
    "glibc": "glibc",
    "openssl": "openssl",
    "lighttpd": "lighttpd",
    "zlib": "zlib",
    "libtomcrypt": "libtomcrypt",
    "libtommath": "libtommath",
    "libxcrypt": "libxcrypt",
    "gcc": "gcc",
    "iptables": "iptables",
    "hostapd": "hostapd",
    "wpa_supplicant": "wpa_supplicant",
    "sqlite": "sqlite",
    "libexpat": "expat",
    "expat": "expat",
    "libxml2": "libxml2",
    "libpng": "libpng",
    "libjpeg-turbo": "libjpeg-turbo",
    "openssh": "openssh",
    "openvpn": "openvpn",
    "tcpdump": "tcpdump",
    "libpcap": "libpcap",
    "iproute2": "iproute2",
}

CBT_RUNNER = r"""
import json, logging, sys, time
from pathlib import Path
(Path.home() / ".cache" / "cve-bin-tool").mkdir(parents=True, exist_ok=True)
logging.disable(logging.CRITICAL)
from cve_bin_tool.checkers import BUILTIN_CHECKERS
from cve_bin_tool.version_scanner import VersionScanner
checkers, skipped = {}, []
for ep in BUILTIN_CHECKERS.values():
    try:
        checkers[ep.name] = ep.load()
    except Exception:  # offline, sqlite's checker cannot fetch its version map
        skipped.append(ep.name)
scanner = VersionScanner(checkers=checkers)
out = {}
t0 = time.perf_counter()
for tree in sys.argv[1:]:
    found = set()
    for info in scanner.recursive_scan(tree):
        found.add((info.product_info.product, info.product_info.version))
    out[tree] = sorted(found)
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "trees": out, "checkers": len(checkers), "skipped": skipped}))
"""


def upstream(debian_version: str) -> str:
    """1:1.35.0-4+deb12u1+b1 -> 1.35.0; 1:1.2.13.dfsg-1 -> 1.2.13; 2.9.14+dfsg-1.3~deb12u1 -> 2.9.14."""
    v = debian_version.split(":", 1)[-1]
    v = v.rsplit("-", 1)[0] if "-" in v else v
    return re.sub(r"[.+~](?:dfsg|ds|repack)[0-9]*$", "", v)


def sh(*cmd: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)


def ensure_arches(arches: Iterable[str]) -> bool:
    """Add foreign architectures; True when apt's lists need an update."""
    native = sh("dpkg", "--print-architecture").stdout.strip()
    have = set(sh("dpkg", "--print-foreign-architectures").stdout.split()) | {native}
    missing = [a for a in arches if a not in have]
    for arch in missing:
        subprocess.run(["dpkg", "--add-architecture", arch], check=True)
    return bool(missing)


def download(packages: list[str], arches: list[str], cache: Path) -> dict[tuple[str, str], Path]:
    cache.mkdir(parents=True, exist_ok=True)
    if ensure_arches(arches):
        subprocess.run(["apt-get", "update", "-qq"], check=True)
    debs: dict[tuple[str, str], Path] = {}
    updated = False
    for arch in arches:
        for pkg in packages:
            have = sorted(cache.glob(f"{pkg}_*_{arch}.deb")) + sorted(cache.glob(f"{pkg}_*_all.deb"))
            if not have:
                res = sh("apt-get", "download", f"{pkg}:{arch}", cwd=cache)
                if res.returncode != 0 and not updated:
                    subprocess.run(["apt-get", "update", "-qq"], check=True)
                    updated = True
                    res = sh("apt-get", "download", f"{pkg}:{arch}", cwd=cache)
                if res.returncode != 0:
                    print(f"  {pkg}:{arch}: not available ({res.stderr.strip().splitlines()[-1:]})")
                    continue
                have = sorted(cache.glob(f"{pkg}_*_{arch}.deb"))
            if have:
                debs[(pkg, arch)] = have[-1]
    return debs


def deb_version(deb: Path) -> str:
    return sh("dpkg-deb", "-f", str(deb), "Version").stdout.strip()


def score(found: dict[str, set[tuple[str, str]]], truth: dict[str, tuple[str, str]]) -> dict[str, float]:
    correct = sum(1 for t, pair in truth.items() if pair in found.get(t, set()))
    reported = sum(len(v) for v in found.values())
    right = sum(len(v & {truth[t]}) for t, v in found.items())
    return {
        "found": correct,
        "total": len(truth),
        "reported": reported,
        "right": right,
        "recall": correct / len(truth) if truth else 0.0,
        "precision": right / reported if reported else 1.0,
    }


def run_assay(trees: dict[str, Path]) -> tuple[dict[str, set[tuple[str, str]]], float, float]:
    """Found pairs, seconds for index + inventory, seconds for the inventory alone."""
    found: dict[str, set[tuple[str, str]]] = {}
    inventory = 0.0
    t0 = time.perf_counter()
    for key, root in trees.items():
        index = build_index([index_directory(root, "fs0")])
        t1 = time.perf_counter()
        found[key] = {(c.name, c.version) for c in identify(index) if c.version}
        inventory += time.perf_counter() - t1
    return found, time.perf_counter() - t0, inventory


def run_cbt(trees: dict[str, Path], python: Path) -> tuple[dict[str, set[tuple[str, str]]], float]:
    res = subprocess.run(
        [str(python), "-c", CBT_RUNNER, *[str(p) for p in trees.values()]],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(res.stdout.strip().splitlines()[-1])
    if data["skipped"]:
        print(f"cve-bin-tool: {data['checkers']} checkers; could not load: {', '.join(data['skipped'])}")
    by_path = {str(p): k for k, p in trees.items()}
    found = {
        by_path[tree]: {(CBT_NAMES.get(prod, prod), ver) for prod, ver in pairs}
        for tree, pairs in data["trees"].items()
    }
    return found, float(data["seconds"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", action="append", help=f"architectures (default: {' '.join(ARCHES)})")
    ap.add_argument("--package", action="append", help="Debian packages (default: every one in TRUTH_NAMES)")
    cache_home = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    ap.add_argument("--cache", type=Path, default=cache_home / "assay-bench" / "debs")
    ap.add_argument("--cbt-python", type=Path, default=Path("/tmp/cbt-venv/bin/python"))
    ap.add_argument("--no-cbt", action="store_true", help="skip cve-bin-tool")
    ap.add_argument("-v", "--verbose", action="store_true", help="list misses and wrong pairs")
    args = ap.parse_args()
    arches = args.arch or list(ARCHES)
    packages = args.package or list(TRUTH_NAMES)

    debs = download(packages, arches, args.cache)
    with tempfile.TemporaryDirectory(prefix="assay-versions-") as tmp:
        trees: dict[str, Path] = {}
        truth: dict[str, tuple[str, str]] = {}
        for (pkg, arch), deb in sorted(debs.items()):
            key = f"{pkg}:{arch}"
            root = Path(tmp) / key.replace(":", "_")
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
            trees[key] = root
            truth[key] = (TRUTH_NAMES[pkg], upstream(deb_version(deb)))
        print(f"{len(trees)} packages, {len(set(packages))} components, architectures: {' '.join(arches)}")

        assay_found, assay_total, assay_inventory = run_assay(trees)
        results = {"assay": (assay_found, assay_total)}
        if not args.no_cbt:
            if not args.cbt_python.exists():
                print(f"cve-bin-tool: {args.cbt_python} missing; see the docstring", file=sys.stderr)
                return 2
            results["cve-bin-tool"] = run_cbt(trees, args.cbt_python)

    for tool, (found, seconds) in results.items():
        s = score(found, truth)
        print(
            f"{tool:13} found {s['found']}/{s['total']}  recall {s['recall']:.3f}  "
            f"precision {s['precision']:.3f} ({s['right']}/{s['reported']} pairs right)  {seconds:.1f} s"
        )
        if args.verbose:
            for key, pair in sorted(truth.items()):
                got = found.get(key, set())
                wrong = sorted(got - {pair})
                if pair not in got or wrong:
                    miss = "" if pair in got else f"missed {pair[0]} {pair[1]}"
                    extra = f" reported {wrong}" if wrong else ""
                    print(f"    {key:28} {miss}{extra}")
    print(
        f"assay time: {assay_total:.1f} s with the index (hash, type, ELF parse), {assay_inventory:.1f} s inventory alone"
    )
    if "cve-bin-tool" in results:
        cbt = results["cve-bin-tool"][1]
        print(
            f"speed: Assay {cbt / max(assay_total, 1e-9):.1f}x faster than cve-bin-tool "
            f"({cbt / max(assay_inventory, 1e-9):.1f}x counting the inventory stage alone)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
