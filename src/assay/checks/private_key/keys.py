"""Find and fingerprint private and public keys in raw bytes (PEM, DER, OpenSSH, PuTTY, dropbear).

Fingerprints let the same key be recognised across images: `ssh` is OpenSSH's
`SHA256:<base64>` of the public key blob, `spki` the hex SHA-256 of the DER
SubjectPublicKeyInfo.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import struct
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

_PEM = re.compile(
    rb"-----BEGIN ((?:RSA |EC |DSA |ENCRYPTED |OPENSSH |ANY )?PRIVATE KEY)-----\r?\n"
    rb"([A-Za-z0-9+/=\r\n:, -]{16,16384}?)-----END \1-----"
)
_PUTTY = re.compile(rb"PuTTY-User-Key-File-(\d): ([\w@.-]+)\r?\nEncryption: ([\w-]+)\r?\n")
_DROPBEAR_TYPES = (
    b"ssh-rsa",
    b"ssh-dss",
    b"ssh-ed25519",
    b"ecdsa-sha2-nistp256",
    b"ecdsa-sha2-nistp384",
    b"ecdsa-sha2-nistp521",
)
# DER private keys: PKCS#1 RSA (SEQUENCE, INTEGER 0, INTEGER modulus), SEC1 EC (INTEGER 1, OCTET STRING),
# PKCS#8 (INTEGER 0, AlgorithmIdentifier SEQUENCE).
_DER = re.compile(
    rb"\x30\x82..\x02\x01\x00\x02(?:\x82|\x81|\x41)"
    rb"|\x30[\x77\x81\x82].{0,2}\x02\x01\x01\x04[\x20\x30\x42]"
    rb"|\x30\x82..\x02\x01\x00\x30[\x0d\x05\x13\x08]\x06",
    re.DOTALL,
)
_SSH_PUB = re.compile(
    rb"(?<![\w-])(ssh-(?:rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)"
    rb"[ \t]+([A-Za-z0-9+/]{40,}={0,3})(?:[ \t]+([^\r\n]*))?"
)


@dataclass(frozen=True)
class KeyInfo:
    kind: str  # RSA, EC, DSA, Ed25519, Ed448, unknown
    bits: int | None
    fmt: str  # "PEM PKCS#1", "PEM PKCS#8", "OpenSSH", "PuTTY", "dropbear", "DER ..."
    offset: int
    length: int
    encrypted: bool = False
    ssh_fingerprint: str | None = None
    spki_sha256: str | None = None
    curve: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        size = f" {self.bits}" if self.bits else ""
        enc = " (encrypted)" if self.encrypted else ""
        return f"{self.kind}{size} {self.fmt}{enc}"

    def to_details(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.kind, "format": self.fmt, "encrypted": self.encrypted}
        for k, v in (("bits", self.bits), ("curve", self.curve), ("ssh_fingerprint", self.ssh_fingerprint)):
            if v is not None:
                d[k] = v
        if self.spki_sha256:
            d["spki_sha256"] = self.spki_sha256
        d.update(self.extra)
        return d


def ssh_fingerprint(blob: bytes) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _public_facts(pub: Any) -> tuple[str, int | None, str | None, str | None, str | None]:
    """kind, bits, curve, ssh fingerprint, spki sha256 of a cryptography public key."""
    curve = None
    if isinstance(pub, rsa.RSAPublicKey):
        kind, bits = "RSA", pub.key_size
    elif isinstance(pub, dsa.DSAPublicKey):
        kind, bits = "DSA", pub.key_size
    elif isinstance(pub, ec.EllipticCurvePublicKey):
        kind, bits, curve = "EC", pub.curve.key_size, pub.curve.name
    elif isinstance(pub, ed25519.Ed25519PublicKey):
        kind, bits = "Ed25519", 256
    elif isinstance(pub, ed448.Ed448PublicKey):
        kind, bits = "Ed448", 456
    else:
        kind, bits = type(pub).__name__, None
    ssh = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DSA in OpenSSH format is deprecated, still fingerprintable
            line = pub.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        ssh = ssh_fingerprint(base64.b64decode(line.split()[1]))
    except (ValueError, UnsupportedAlgorithm, IndexError):
        pass
    spki = None
    try:
        der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        spki = hashlib.sha256(der).hexdigest()
    except (ValueError, UnsupportedAlgorithm):
        pass
    return kind, bits, curve, ssh, spki


def _from_private(key: Any, fmt: str, offset: int, length: int) -> KeyInfo:
    kind, bits, curve, ssh, spki = _public_facts(key.public_key())
    return KeyInfo(kind, bits, fmt, offset, length, False, ssh, spki, curve)


def _read_string(buf: bytes, pos: int) -> tuple[bytes, int]:
    (n,) = struct.unpack_from(">I", buf, pos)
    if n > len(buf) - pos - 4:
        raise ValueError("truncated")
    return buf[pos + 4 : pos + 4 + n], pos + 4 + n


def _openssh_public(body: bytes) -> tuple[str, int | None, str | None] | None:
    """kind, bits, ssh fingerprint from an openssh-key-v1 body (readable even when encrypted)."""
    if not body.startswith(b"openssh-key-v1\0"):
        return None
    pos = len(b"openssh-key-v1\0")
    _cipher, pos = _read_string(body, pos)
    _kdf, pos = _read_string(body, pos)
    _opts, pos = _read_string(body, pos)
    pos += 4
    blob, pos = _read_string(body, pos)
    try:
        pub = serialization.load_ssh_public_key(b"%s %s" % (_read_string(blob, 0)[0], base64.b64encode(blob)))
        kind, bits, _curve, _ssh, _spki = _public_facts(pub)
    except (ValueError, UnsupportedAlgorithm):
        kind, bits = _read_string(blob, 0)[0].decode("latin-1"), None
    return kind, bits, ssh_fingerprint(blob)


def _pem_key(m: re.Match[bytes]) -> KeyInfo | None:
    label = m.group(1).decode()
    block = m.group(0)
    body_text = m.group(2)
    headers = b"Proc-Type:" in body_text or b"DEK-Info:" in body_text
    b64 = re.sub(rb"(?m)^[\w-]+:.*$|\s", b"", body_text)
    try:
        body = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(body) < 32:
        return None
    fmt = {
        "RSA PRIVATE KEY": "PEM PKCS#1",
        "EC PRIVATE KEY": "PEM SEC1",
        "DSA PRIVATE KEY": "PEM DSA",
        "PRIVATE KEY": "PEM PKCS#8",
        "ENCRYPTED PRIVATE KEY": "PEM PKCS#8",
        "OPENSSH PRIVATE KEY": "OpenSSH",
        "ANY PRIVATE KEY": "PEM",
    }[label]
    off, length = m.start(), len(block)
    if label == "OPENSSH PRIVATE KEY":
        pub = _openssh_public(body)
        if pub is None:
            return None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                key: Any = serialization.load_ssh_private_key(
                    block, password=None, unsafe_skip_rsa_key_validation=True
                )
            return _from_private(key, fmt, off, length)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            return KeyInfo(pub[0], pub[1], fmt, off, length, True, pub[2])
    if label == "ENCRYPTED PRIVATE KEY" or headers:
        if body[0] != 0x30:
            return None
        kind = {"RSA PRIVATE KEY": "RSA", "EC PRIVATE KEY": "EC", "DSA PRIVATE KEY": "DSA"}.get(
            label, "unknown"
        )
        return KeyInfo(kind, None, fmt, off, length, True)
    try:
        key = serialization.load_pem_private_key(block, password=None, unsafe_skip_rsa_key_validation=True)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None
    return _from_private(key, fmt, off, length)


def _der_key(data: bytes, m: re.Match[bytes]) -> KeyInfo | None:
    start = m.start()
    if data[start + 1] == 0x82:
        total = 4 + int.from_bytes(data[start + 2 : start + 4], "big")
    elif data[start + 1] == 0x81:
        total = 3 + data[start + 2]
    else:
        total = 2 + data[start + 1]
    der = data[start : start + total]
    if len(der) != total:
        return None
    try:
        key = serialization.load_der_private_key(der, password=None, unsafe_skip_rsa_key_validation=True)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None
    if isinstance(key, rsa.RSAPrivateKey):
        # Validation is skipped (primality tests take minutes on large keys); n = p*q is cheap.
        numbers = key.private_numbers()
        if numbers.p * numbers.q != numbers.public_numbers.n:
            return None
    label = "DER PKCS#8" if der[4:7] == b"\x02\x01\x00" and der[7] == 0x30 else "DER"
    return _from_private(key, label, start, total)


def _putty_key(data: bytes, m: re.Match[bytes]) -> KeyInfo | None:
    tail = data[m.end() : m.end() + 16384]
    pm = re.search(rb"Public-Lines: (\d+)\r?\n", tail)
    if pm is None or b"Private-Lines:" not in tail:
        return None
    lines = tail[pm.end() :].splitlines()[: int(pm.group(1))]
    try:
        blob = base64.b64decode(b"".join(lines), validate=True)
        kind_name = _read_string(blob, 0)[0]
        pub = serialization.load_ssh_public_key(kind_name + b" " + base64.b64encode(blob))
        kind, bits, curve, _ssh, spki = _public_facts(pub)
    except (binascii.Error, ValueError, UnsupportedAlgorithm, struct.error):
        return None
    encrypted = m.group(3) != b"none"
    return KeyInfo(
        kind,
        bits,
        f"PuTTY v{m.group(1).decode()}",
        m.start(),
        m.end() - m.start(),
        encrypted,
        ssh_fingerprint(blob),
        spki,
        curve,
    )


def _dropbear_key(data: bytes) -> KeyInfo | None:
    """dropbear's own host key format: SSH wire strings/mpints, public parts first."""
    try:
        name, pos = _read_string(data, 0)
        if name not in _DROPBEAR_TYPES:
            return None
        fields: list[bytes] = []
        while pos < len(data) and len(fields) < 6:
            f, pos = _read_string(data, pos)
            fields.append(f)
        if name == b"ssh-rsa" and len(fields) >= 3:
            e, n, d = (int.from_bytes(x, "big") for x in fields[:3])
            if d <= 1 or n <= e:
                return None
            pub: Any = rsa.RSAPublicNumbers(e, n).public_key()
        elif name == b"ssh-dss" and len(fields) >= 5:
            p, q, g, y = (int.from_bytes(x, "big") for x in fields[:4])
            pub = dsa.DSAPublicNumbers(y, dsa.DSAParameterNumbers(p, q, g)).public_key()
        elif name == b"ssh-ed25519" and fields and len(fields[0]) == 64:
            pub = ed25519.Ed25519PublicKey.from_public_bytes(fields[0][32:])
        elif name.startswith(b"ecdsa-sha2-") and len(fields) >= 3:
            curve = {b"nistp256": ec.SECP256R1(), b"nistp384": ec.SECP384R1(), b"nistp521": ec.SECP521R1()}[
                fields[0]
            ]
            pub = ec.EllipticCurvePublicKey.from_encoded_point(curve, fields[1])
        else:
            return None
    except (ValueError, KeyError, struct.error, UnsupportedAlgorithm):
        return None
    kind, bits, curve_name, ssh, spki = _public_facts(pub)
    return KeyInfo(kind, bits, "dropbear", 0, pos, False, ssh, spki, curve_name)


def quick_filter(data: bytes) -> bool:
    """Cheap test: could these bytes hold a private key at all?"""
    return (
        b"PRIVATE KEY-----" in data
        or b"PuTTY-User-Key-File-" in data
        or data[4:11] in (b"ssh-rsa", b"ssh-dss")
        or data[4:15] == b"ssh-ed25519"
        or data[4:15] == b"ecdsa-sha2-"
        or _DER.search(data) is not None
    )


def private_keys(data: bytes) -> Iterator[KeyInfo]:
    """Every parseable private key in data, in file order. Markers without a key body yield nothing."""
    spans: list[tuple[int, int]] = []  # keys found so far: a PKCS#8 key wraps a PKCS#1 one
    if b"PRIVATE KEY-----" in data:
        for m in _PEM.finditer(data):
            k = _pem_key(m)
            if k is not None:
                spans.append((k.offset, k.offset + k.length))
                yield k
    if b"PuTTY-User-Key-File-" in data:
        for m in _PUTTY.finditer(data):
            k = _putty_key(data, m)
            if k is not None:
                yield k
    if data[:4] in (b"\0\0\0\x07", b"\0\0\0\x0b", b"\0\0\0\x13"):
        k = _dropbear_key(data)
        if k is not None:
            yield k
            return
    for m in _DER.finditer(data):
        if any(a <= m.start() < b for a, b in spans):
            continue
        k = _der_key(data, m)
        if k is not None:
            spans.append((k.offset, k.offset + k.length))
            yield k


@dataclass(frozen=True)
class PublicKey:
    kind: str
    bits: int | None
    comment: str
    ssh_fingerprint: str
    offset: int
    length: int
    options: str


def ssh_public_keys(data: bytes) -> Iterator[PublicKey]:
    """OpenSSH public key lines (authorized_keys format), options and comment included."""
    for m in _SSH_PUB.finditer(data):
        name, b64 = m.group(1), m.group(2)
        try:
            blob = base64.b64decode(b64, validate=True)
            if _read_string(blob, 0)[0] != name:
                continue
        except (binascii.Error, ValueError, struct.error):
            continue
        bits: int | None = None
        kind = name.decode()
        try:
            pub = serialization.load_ssh_public_key(name + b" " + b64)
            kind, bits, _c, _s, _p = _public_facts(pub)
        except (ValueError, UnsupportedAlgorithm):
            pass
        line_start = data.rfind(b"\n", 0, m.start()) + 1
        options = data[line_start : m.start()].strip().decode("latin-1")
        comment = (m.group(3) or b"").strip().decode("latin-1")
        yield PublicKey(kind, bits, comment, ssh_fingerprint(blob), m.start(), m.end() - m.start(), options)


@lru_cache(maxsize=1)
def published_test_keys() -> dict[str, dict[str, str]]:
    """Fingerprint -> record of private keys published in open-source test and benchmark code."""
    return _fingerprint_list("checks/private_key/test-keys.json")


@lru_cache(maxsize=1)
def leaked_keys() -> dict[str, dict[str, str]]:
    """Fingerprint -> record of publicly leaked vendor keys (shipped data, fingerprints only)."""
    return _fingerprint_list("data/leaked-keys/leaked-keys.json")


def _fingerprint_list(resource: str) -> dict[str, dict[str, str]]:
    try:
        records = json.loads(resources.files("assay").joinpath(resource).read_text())["keys"]
    except (OSError, ValueError, KeyError):
        return {}
    out: dict[str, dict[str, str]] = {}
    for r in records:
        for k in ("ssh_fingerprint", "spki_sha256"):
            if r.get(k):
                out[r[k]] = r
    return out
