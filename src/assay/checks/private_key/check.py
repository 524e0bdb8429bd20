"""private-key: private keys shipped in the image, in files or inside binaries' data.

Every candidate must parse: a PEM marker without a key body (libcrypto's format strings) is not a
key. Public keys and certificates alone are not findings. Each key is fingerprinted so the same
key can be found across images and matched against publicly leaked vendor keys.
"""

from __future__ import annotations

from collections.abc import Iterator

from assay.checks.base import Check, CheckContext, evidence_at
from assay.checks.private_key.keys import leaked_keys, private_keys, quick_filter
from assay.model import Finding, Severity

_MAX_FILE = 64 << 20
_EXCERPT = 64  # bytes of the key shown as evidence: its marker, never the whole secret


def run(ctx: CheckContext) -> Iterator[Finding]:
    leaked = leaked_keys()
    for entry in ctx.index.files():
        if entry.size <= 0 or entry.size > _MAX_FILE:
            continue
        data = ctx.index.read(entry)
        if not quick_filter(data):
            continue
        for key in private_keys(data):
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
            where = "inside an executable's data" if entry.elf is not None else "in a file"
            yield CHECK.finding(
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
        "Test or example keys shipped with libraries' documentation; keys a device regenerates on first "
        "boot but that the vendor left in the image anyway (still worth removing)."
    ),
)
