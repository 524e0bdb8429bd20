"""Benchmark: importing a full-size NVD feed streams it; peak memory must stay under 500 MB.

Writes a feed of N CVEs (default 300,000, about 1 GB) in the real NVD CVE API 2.0 feed format
to disk, one record at a time: English and Spanish descriptions, CVSS v3.1 metrics (plus v4.0
and v2 on some), CWE weaknesses, references, and configurations with version ranges, exact
criteria, running-on AND nodes and negations over a pool of real router products. Then, each
in a child process so ru_maxrss is its own:

  * `assay db import FEED --db DB` as a user runs it (time, peak RSS, CVEs in the DB);
  * matching one component of each product against the database built;
  * baseline 1, same run: ijson parsing the same feed and building each record, no database;
  * baseline 2, same run: json.load of a slice of the feed, scaled to the whole feed, which is
    what loading the feed at once would need.

The feed and the database are deleted at the end unless --keep is given.

    .venv/bin/python bench/nvd_import.py [--cves 300000] [--slice 20000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

ASSAY = Path(sys.executable).with_name("assay")
LIMIT_MB = 500

PRODUCTS = [
    ("busybox", "busybox", "a"),
    ("openssl", "openssl", "a"),
    ("haxx", "curl", "a"),
    ("haxx", "libcurl", "a"),
    ("thekelleys", "dnsmasq", "a"),
    ("dropbear_ssh_project", "dropbear_ssh", "a"),
    ("lighttpd", "lighttpd", "a"),
    ("gnu", "glibc", "a"),
    ("zlib", "zlib", "a"),
    ("linux", "linux_kernel", "o"),
    ("samba", "samba", "a"),
    ("openbsd", "openssh", "a"),
    ("w1.fi", "hostapd", "a"),
    ("w1.fi", "wpa_supplicant", "a"),
    ("netgear", "r7000_firmware", "o"),
    ("tp-link", "archer_c7_firmware", "o"),
    ("dlink", "dir-859_firmware", "o"),
    ("sqlite", "sqlite", "a"),
    ("xmlsoft", "libxml2", "a"),
    ("libexpat_project", "libexpat", "a"),
]
HARDWARE = [("netgear", "r7000"), ("tp-link", "archer_c7"), ("dlink", "dir-859"), ("zyxel", "nas326")]
WORDS = [
    "buffer",
    "overflow",
    "heap",
    "stack",
    "memory",
    "corruption",
    "remote",
    "attacker",
    "crafted",
    "packet",
    "request",
    "header",
    "parsing",
    "authentication",
    "bypass",
    "denial",
    "service",
    "use-after-free",
    "null",
    "pointer",
    "dereference",
    "integer",
    "overflow",
    "function",
    "component",
    "module",
    "allows",
    "execute",
    "arbitrary",
    "code",
    "via",
    "long",
    "string",
    "input",
    "validation",
    "improper",
    "length",
    "check",
    "before",
    "copying",
    "data",
    "into",
    "fixed-size",
    "buffer",
    "when",
    "processing",
    "network",
    "traffic",
]
CWES = [
    "CWE-787",
    "CWE-125",
    "CWE-416",
    "CWE-20",
    "CWE-78",
    "CWE-120",
    "CWE-476",
    "CWE-190",
    "NVD-CWE-noinfo",
]
V31 = [
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL"),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5, "HIGH"),
    ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, "HIGH"),
    ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 5.3, "MEDIUM"),
]


def _version(rng: random.Random) -> str:
    return f"{rng.randint(0, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 30)}"


def _match(
    rng: random.Random, vendor: str, product: str, part: str, vulnerable: bool = True
) -> dict[str, Any]:
    m: dict[str, Any] = {"vulnerable": vulnerable}
    kind = rng.random()
    if kind < 0.3:
        m["criteria"] = f"cpe:2.3:{part}:{vendor}:{product}:{_version(rng)}:*:*:*:*:*:*:*"
    else:
        m["criteria"] = f"cpe:2.3:{part}:{vendor}:{product}:*:*:*:*:*:*:*:*"
        if kind < 0.6:
            m["versionEndExcluding"] = _version(rng)
        elif kind < 0.8:
            m["versionStartIncluding"], m["versionEndExcluding"] = sorted([_version(rng), _version(rng)])
        else:
            m["versionStartExcluding"], m["versionEndIncluding"] = sorted([_version(rng), _version(rng)])
    m["matchCriteriaId"] = f"{rng.getrandbits(128):032X}"
    return m


def _configurations(rng: random.Random) -> list[dict[str, Any]]:
    vendor, product, part = rng.choice(PRODUCTS)
    matches = [_match(rng, vendor, product, part) for _ in range(rng.choice([1, 1, 2, 3, 5, 8, 15]))]
    nodes = [{"operator": "OR", "negate": False, "cpeMatch": matches}]
    if part == "o" and product.endswith("_firmware") or rng.random() < 0.15:
        hv, hp = rng.choice(HARDWARE)
        hw = {"vulnerable": False, "criteria": f"cpe:2.3:h:{hv}:{hp}:-:*:*:*:*:*:*:*"}
        nodes.append({"operator": "OR", "negate": False, "cpeMatch": [hw | {"matchCriteriaId": "0" * 32}]})
        return [{"operator": "AND", "nodes": nodes}]
    if rng.random() < 0.03:
        ov, op, opart = rng.choice(PRODUCTS)
        nodes.append({"operator": "OR", "negate": True, "cpeMatch": [_match(rng, ov, op, opart, False)]})
        return [{"operator": "AND", "nodes": nodes}]
    return [{"nodes": nodes}]


def _metrics(rng: random.Random) -> dict[str, Any]:
    vector, score, severity = rng.choice(V31)
    metrics: dict[str, Any] = {
        "cvssMetricV31": [
            {
                "source": "nvd@nist.gov",
                "type": "Primary",
                "cvssData": {
                    "version": "3.1",
                    "vectorString": vector,
                    "baseScore": score,
                    "baseSeverity": severity,
                    "attackVector": "NETWORK",
                    "attackComplexity": "LOW",
                    "privilegesRequired": "NONE",
                    "userInteraction": "NONE",
                    "scope": "UNCHANGED",
                    "confidentialityImpact": "HIGH",
                    "integrityImpact": "HIGH",
                    "availabilityImpact": "HIGH",
                },
                "exploitabilityScore": 3.9,
                "impactScore": 5.9,
            }
        ]
    }
    if rng.random() < 0.3:
        metrics["cvssMetricV40"] = [
            {
                "source": "cna@vendor.example",
                "type": "Secondary",
                "cvssData": {
                    "version": "4.0",
                    "vectorString": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                    "baseScore": 9.3,
                    "baseSeverity": "CRITICAL",
                },
            }
        ]
    if rng.random() < 0.4:
        metrics["cvssMetricV2"] = [
            {
                "source": "nvd@nist.gov",
                "type": "Primary",
                "cvssData": {
                    "version": "2.0",
                    "vectorString": "AV:N/AC:L/Au:N/C:P/I:P/A:P",
                    "baseScore": 7.5,
                },
                "baseSeverity": "HIGH",
                "exploitabilityScore": 10.0,
                "impactScore": 6.4,
                "acInsufInfo": False,
            }
        ]
    return metrics


def cve(rng: random.Random, n: int) -> dict[str, Any]:
    year = 1999 + n % 26
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 90)))
    return {
        "cve": {
            "id": f"CVE-{year}-{100000 + n}",
            "sourceIdentifier": "cve@mitre.org",
            "published": f"{year}-03-01T12:00:00.000",
            "lastModified": f"{year + 1}-06-01T12:00:00.000",
            "vulnStatus": "Analyzed" if n % 50 else "Rejected",
            "cveTags": [],
            "descriptions": [{"lang": "en", "value": text}, {"lang": "es", "value": text[: len(text) // 2]}],
            "metrics": _metrics(rng),
            "weaknesses": [
                {
                    "source": "nvd@nist.gov",
                    "type": "Primary",
                    "description": [{"lang": "en", "value": rng.choice(CWES)}],
                }
            ],
            "configurations": _configurations(rng),
            "references": [
                {
                    "url": f"https://vendor.example/advisory/{n}/{i}",
                    "source": "cve@mitre.org",
                    "tags": ["Vendor Advisory"],
                }
                for i in range(rng.randint(2, 10))
            ],
        }
    }


def write_feed(path: Path, count: int, seed: int = 4) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as fh:
        _write(fh, rng, count)


def _write(fh: TextIO, rng: random.Random, count: int) -> None:
    head = {
        "resultsPerPage": count,
        "startIndex": 0,
        "totalResults": count,
        "format": "NVD_CVE",
        "version": "2.0",
        "timestamp": "2026-11-23T00:00:00.000",
    }
    fh.write(json.dumps(head)[:-1] + ', "vulnerabilities": [\n')
    for n in range(count):
        fh.write(("," if n else "") + json.dumps(cve(rng, n)) + "\n")
    fh.write("]}\n")


def child(code: str, *args: str) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds, and the peak RSS in MB of the process measured.

    The child prints "maxrss cpu" of the process measured as its last line. CPU time is printed
    too because the machine may be shared: wall time then depends on the other load.
    """
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True)
    rss, cpu = out.stdout.strip().splitlines()[-1].split()
    return time.perf_counter() - t0, float(cpu), float(rss) / 1024


_RSS = "import resource; u = resource.getrusage(resource.RUSAGE_SELF); print(u.ru_maxrss, u.ru_utime + u.ru_stime)"

_IMPORT = f"""
import subprocess, sys
r = subprocess.run([{str(ASSAY)!r}, "db", "import", sys.argv[1], "--db", sys.argv[2], "-q"])
assert r.returncode == 0
import resource; u = resource.getrusage(resource.RUSAGE_CHILDREN); print(u.ru_maxrss, u.ru_utime + u.ru_stime)
"""

_PARSE = f"""
import sys, ijson
from assay.vulns.importers import nvd_record
n = 0
with open(sys.argv[1], "rb") as fh:
    for item in ijson.items(fh, "vulnerabilities.item", use_float=True):
        nvd_record(item["cve"]); n += 1
print(n)
{_RSS}
"""

_MATCH = f"""
import sys, time
from pathlib import Path
from assay.model import Component
from assay.vulns import check_components
products = {[(v, p, part) for v, p, part in PRODUCTS]!r}
comps = [Component(p, "4.20.10", None, f"cpe:2.3:{{part}}:{{v}}:{{p}}:4.20.10:*:*:*:*:*:*:*", ["/bin/" + p])
         for v, p, part in products]
t = time.process_time()
vulns, _ = check_components(comps, Path(sys.argv[1]))
print(len(comps), len(vulns), round(time.process_time() - t, 2))
{_RSS}
"""

_LOAD = f"""
import json, sys
data = json.load(open(sys.argv[1]))
print(len(data["vulnerabilities"]))
{_RSS}
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cves", type=int, default=300_000)
    ap.add_argument("--slice", type=int, default=20_000, help="CVEs in the json.load baseline")
    ap.add_argument("--keep", type=Path, help="work here and keep the feed and database")
    args = ap.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="assay-nvd-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    feed, small, db = work / "nvdcve-2.0-bench.json", work / "nvdcve-2.0-slice.json", work / "bench.sqlite"
    try:
        t0 = time.perf_counter()
        write_feed(feed, args.cves)
        write_feed(small, min(args.slice, args.cves))
        size = feed.stat().st_size
        print(f"feed: {args.cves} CVEs, {size / 1e6:.0f} MB, written in {time.perf_counter() - t0:.0f} s")

        db.unlink(missing_ok=True)
        t_imp, cpu_imp, rss_imp = child(_IMPORT, str(feed), str(db))
        out = subprocess.run(
            [str(ASSAY), "db", "stats", "--db", str(db), "--format", "json"], check=True, capture_output=True
        )
        stats = json.loads(out.stdout)
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", _MATCH, str(db)], check=True, capture_output=True, text=True
        )
        n_comp, n_vuln, cpu_match = out.stdout.splitlines()[-2].split()
        t_match = time.perf_counter() - t0
        t_parse, cpu_parse, rss_parse = child(_PARSE, str(feed))
        t_load, cpu_load, rss_load = child(_LOAD, str(small))
        load_scaled = rss_load * args.cves / min(args.slice, args.cves)

        n_slice = min(args.slice, args.cves)
        print(
            f"assay db import:      {t_imp:7.1f} s wall {cpu_imp:7.1f} s CPU  {args.cves / cpu_imp:7.0f} CVEs/CPU-s"
            f"  peak RSS {rss_imp:5.0f} MB  ({stats['nvd_cves']} CVEs kept, {stats['nvd_products']} products,"
            f" DB {db.stat().st_size / 1e6:.0f} MB)"
        )
        print(
            f"matching {n_comp} components (one per product) against it: {cpu_match} s CPU"
            f" ({t_match:.1f} s wall with start-up), {n_vuln} vulnerabilities"
        )
        print(
            f"baseline ijson parse: {t_parse:7.1f} s wall {cpu_parse:7.1f} s CPU  {args.cves / cpu_parse:7.0f} CVEs/CPU-s"
            f"  peak RSS {rss_parse:5.0f} MB"
        )
        print(
            f"baseline json.load:   {t_load:7.1f} s wall {cpu_load:7.1f} s CPU for {n_slice} CVEs, peak RSS"
            f" {rss_load:.0f} MB -> about {load_scaled:.0f} MB for the whole feed"
        )
        print(
            f"ratios: import/parse CPU {cpu_imp / cpu_parse:.2f}x; loading the feed at once would need"
            f" {load_scaled / rss_imp:.1f}x the import's peak memory"
        )
        verdict = "PASS" if rss_imp < LIMIT_MB else "FAIL"
        print(f"{verdict}: peak RSS {rss_imp:.0f} MB (limit {LIMIT_MB} MB)")
        if verdict == "FAIL":
            sys.exit(1)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
