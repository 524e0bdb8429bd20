"""private-key: private keys shipped in the image, in files or inside binaries' data.

Every candidate must parse: a PEM marker without a key body (libcrypto's format strings) is not a
key. Public keys and certificates alone are not findings. Each key is fingerprinted so the same
key can be found across images and matched against publicly leaked vendor keys.
"""

from __future__ import annotations

from collections.abc import Iterator

from assay.checks.base import Check, CheckContext, evidence_at
from assay.checks.private_key.keys import (
    KeyInfo,
    leaked_keys,
    private_keys,
    published_test_keys,
    quick_filter,
)
from assay.index import FileEntry
from assay.model import Finding, Severity

_MAX_FILE = 64 << 20
_EXCERPT = 64  # bytes of the key shown as evidence: its marker, never the whole secret


def run(ctx: CheckContext) -> Iterator[Finding]:
    leaked = leaked_keys()
    published = published_test_keys()
    for entry in ctx.index.files():
        if entry.size <= 0 or entry.size > _MAX_FILE:
            continue
        data = ctx.index.read(entry)
        if not quick_filter(data):
            continue
        test_data: list[tuple[KeyInfo, dict[str, str]]] = []
        for key in private_keys(data):
            test = published.get(key.ssh_fingerprint or "") or published.get(key.spki_sha256 or "")
            if test and entry.elf is not None:
                # A benchmark's key compiled into the benchmark (openssl speed) is its test data.
                test_data.append((key, test))
                continue
            yield _key_finding(entry, data, key, leaked, test)
        if test_data:
            yield _test_data_finding(entry, data, test_data)


def _key_finding(
    entry: FileEntry,
    data: bytes,
    key: KeyInfo,
    leaked: dict[str, dict[str, str]],
    test: dict[str, str] | None,
) -> Finding:
    details = key.to_details()
    details["length"] = key.length
    match = leaked.get(key.ssh_fingerprint or "") or leaked.get(key.spki_sha256 or "")
    severity = Severity.HIGH
    title = f"Private key ({key.describe()}) in {entry.path}"
    refs: list[str] = []
    if match:
        severity = Severity.CRITICAL
        details["leaked"] = {"name": match["name"], "user": match.get("user", "")}
        title = f"Publicly leaked private key '{match['name']}' ({key.describe()}) in {entry.path}"
        refs.append("https://github.com/rapid7/ssh-badkeys")
    elif test:
        severity = Severity.CRITICAL
        details["published_test_key"] = test["name"]
        title = f"Published test key '{test['name']}' ({key.describe()}) used in {entry.path}"
    where = "inside an executable's data" if entry.elf is not None else "in a file"
    return CHECK.finding(
        entry.path,
        title,
        [
            evidence_at(
                entry,
                data,
                key.offset,
                min(key.length, _EXCERPT),
                note=f"start of the key ({key.length} bytes) {where}",
                details=details,
            )
        ],
        severity=severity,
        references=refs,
        details=details,
    )


def _test_data_finding(entry: FileEntry, data: bytes, keys: list[tuple[KeyInfo, dict[str, str]]]) -> Finding:
    names = [test["name"] for _key, test in keys]
    return CHECK.finding(
        entry.path,
        f"{len(keys)} published test key(s) compiled into {entry.name} as test data",
        [
            evidence_at(
                entry,
                data,
                key.offset,
                min(key.length, _EXCERPT),
                note=f"published test key {test['name']}",
                details={**key.to_details(), "published_test_key": test["name"]},
            )
            for key, test in keys
        ],
        severity=Severity.INFO,
        category="test-data",
        details={"published_test_keys": names},
    )


CHECK = Check(
    id="private-key",
    category="private-key",
    severity=Severity.HIGH,
    title="Private key shipped in the firmware",
    description=(
        "A private key (PEM PKCS#1/PKCS#8/SEC1/DSA, OpenSSH, PuTTY, dropbear host key or DER) is part of "
        "the image. Every device running this firmware shares it, so anyone who extracts it can "
        "impersonate the device or decrypt its traffic. Keys are parsed to report type, size and "
        "fingerprints (OpenSSH SHA256 and SPKI SHA-256); known leaked vendor keys are named."
    ),
    run=run,
    clause="4.2.3.2.2",
    references=(
        "https://cwe.mitre.org/data/definitions/321.html",
        "https://www.3gpp.org/ftp/Specs/archive/33_series/33.117/",
    ),
    false_positives=(
        "Published benchmark keys inside a program (OpenSSL's `openssl speed` RSA keys, PolarSSL's certs.c keys, listed in "
        "test-keys.json) are reported as info with category test-data instead. Other test or example "
        "keys shipped with libraries; keys a device regenerates on first boot but that the vendor left "
        "in the image anyway (still worth removing)."
    ),
)
