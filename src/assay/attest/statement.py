"""in-toto Statement v1 for a scan report, and the checks `assay verify` runs on one."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assay import __version__
from assay.attest.dsse import PAYLOAD_TYPE, open_envelope, seal
from assay.attest.keys import PrivateKey, PublicKey
from assay.errors import InputError, VerificationFailed

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://assay.dev/attestation/scan/v1"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not an image file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    return h.hexdigest()


def _load_report(path: Path) -> tuple[bytes, dict[str, Any]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read report: {exc.strerror}") from None
    try:
        report = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(f"{path}: not a JSON report") from None
    if not isinstance(report, dict) or not isinstance(report.get("image"), dict) or "findings" not in report:
        raise InputError(f"{path}: not an Assay JSON report")
    return raw, report


def statement(report_path: Path, image: Path | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The Statement binding the image digest to the report bytes and what the scan found."""
    raw, report = _load_report(report_path)
    img = report["image"]
    digest = img.get("sha256")
    name = img.get("name")
    if image is not None:
        actual = sha256_file(image)
        if digest and digest != actual:
            raise InputError(f"{image}: sha256 {actual} is not the image this report describes ({digest})")
        digest, name = actual, name or image.name
    if not isinstance(digest, str) or len(digest) != 64:
        raise InputError(f"{report_path}: the report has no image sha256 (a directory scan?); pass --image")
    tool: dict[str, Any] = report["tool"] if isinstance(report.get("tool"), dict) else {}
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": str(name or "image"), "digest": {"sha256": digest}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "report": {"name": report_path.name, "digest": {"sha256": hashlib.sha256(raw).hexdigest()}},
            "scanner": {"name": tool.get("name", "assay"), "version": tool.get("version")},
            "ruleset": tool.get("ruleset"),
            "schema": report.get("schema"),
            "summary": report.get("summary", {}),
            "attestor": {"name": "assay", "version": __version__},
            "timestamp": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    }


def statement_bytes(report_path: Path, image: Path | None = None) -> bytes:
    """Canonical JSON: the same statement always signs to the same payload bytes."""
    return json.dumps(statement(report_path, image), sort_keys=True, separators=(",", ":")).encode()


def attest(report_path: Path, key: PrivateKey, image: Path | None = None) -> dict[str, Any]:
    return seal(statement_bytes(report_path, image), key)


@dataclass
class Verified:
    keyid: str
    image: str
    image_sha256: str
    report_sha256: str
    statement: dict[str, Any]

    def summary(self) -> str:
        pred = self.statement.get("predicate", {})
        scanner = pred.get("scanner", {}) if isinstance(pred, dict) else {}
        return (
            f"attested by {scanner.get('name')} {scanner.get('version')} ruleset {pred.get('ruleset')} "
            f"at {pred.get('timestamp')}"
        )


def verify_attestation(
    envelope: Path, image: Path, report: Path, pub: PublicKey, say: Callable[[str], None] | None = None
) -> Verified:
    """Signature first, then the image and report digests; the first failure raises and says which.

    `say` hears each check as it passes, so a failure is read after what did hold."""
    say = say or (lambda _line: None)
    try:
        raw = envelope.read_bytes()
    except OSError as exc:
        raise InputError(f"{envelope}: cannot read attestation: {exc.strerror}") from None
    ptype, payload, kid = open_envelope(raw, pub)
    say(f"signature: ok (keyid {kid})")
    return check_statement(ptype, payload, kid, image, report, say)


def check_statement(
    ptype: str, payload: bytes, signer: str, image: Path, report: Path, say: Callable[[str], None]
) -> Verified:
    """The signed statement's digests against the image and report on disk."""
    if ptype != PAYLOAD_TYPE:
        raise VerificationFailed(f"malformed envelope: payloadType {ptype!r} is not {PAYLOAD_TYPE}")
    try:
        stmt = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise VerificationFailed("malformed envelope: payload is not a JSON statement") from None
    if not isinstance(stmt, dict) or stmt.get("_type") != STATEMENT_TYPE:
        raise VerificationFailed("malformed envelope: payload is not an in-toto Statement v1")
    try:
        subject_digests = [s["digest"]["sha256"] for s in stmt["subject"]]
        report_digest = stmt["predicate"]["report"]["digest"]["sha256"]
    except (KeyError, TypeError):
        raise VerificationFailed("malformed envelope: statement lacks subject or report digest") from None
    image_sha = sha256_file(image)
    if image_sha not in subject_digests:
        raise VerificationFailed(
            f"image digest mismatch: {image} has sha256 {image_sha}, the attestation names {', '.join(map(str, subject_digests))}"
        )
    say(f"image digest: ok ({image.name} sha256 {image_sha})")
    report_sha = sha256_file(report)
    if report_sha != report_digest:
        raise VerificationFailed(
            f"report digest mismatch: {report} has sha256 {report_sha}, the attestation names {report_digest}"
        )
    say(f"report digest: ok ({report.name} sha256 {report_sha})")
    return Verified(signer, image.name, image_sha, report_sha, stmt)
