"""private-key: keys made with openssl/ssh-keygen/cryptography, in files and inside a binary."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from assay.checks.base import CheckContext
from assay.checks.private_key.check import CHECK
from assay.checks.private_key.keys import leaked_keys, private_keys
from assay.index import build_index
from assay.model import Finding, Severity
from assay.unpack import index_directory


def _ctx(root: Path, files: dict[str, bytes]) -> CheckContext:
    for path, content in files.items():
        host = root / path.lstrip("/")
        host.parent.mkdir(parents=True, exist_ok=True)
        host.write_bytes(content)
    return CheckContext(index=build_index([index_directory(root, "fs0")]))


def _run(tmp_path: Path, files: dict[str, bytes]) -> list[Finding]:
    return list(CHECK.run(_ctx(tmp_path / "rootfs", files)))


def _openssl(*args: str) -> bytes:
    if shutil.which("openssl") is None:
        pytest.fail("openssl is not installed; run `make test`")
    return subprocess.run(["openssl", *args], check=True, capture_output=True).stdout


def _ssh_fp(pub) -> str:
    blob = base64.b64decode(
        pub.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).split()[1]
    )
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def test_pem_keys_of_every_kind(tmp_path: Path) -> None:
    rsa_pkcs1 = _openssl("genrsa", "-traditional", "1024")
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ed = ed25519.Ed25519PrivateKey.generate()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    files = {
        "/etc/ssl/private/a.key": rsa_pkcs1,
        "/etc/ssl/private/ec.pem": ec_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        ),
        "/etc/ed.pem": ed.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        "/root/.ssh/id_rsa": rsa_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        ),
        "/etc/enc.pem": rsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"pw"),
        ),
    }
    found = {f.path: f for f in _run(tmp_path, files)}
    assert set(found) == set(files)
    assert found["/etc/ssl/private/a.key"].details["format"] == "PEM PKCS#1"
    assert found["/etc/ssl/private/a.key"].details["bits"] == 1024
    assert found["/etc/ssl/private/ec.pem"].details["curve"] == "secp256r1"
    assert found["/etc/ed.pem"].details["type"] == "Ed25519"
    assert found["/etc/ed.pem"].details["ssh_fingerprint"] == _ssh_fp(ed.public_key())
    assert found["/root/.ssh/id_rsa"].details["format"] == "OpenSSH"
    assert found["/root/.ssh/id_rsa"].details["ssh_fingerprint"] == _ssh_fp(rsa_key.public_key())
    assert found["/etc/enc.pem"].details["encrypted"] is True
    for f in found.values():
        assert f.category == "private-key" and f.evidence[0].offset == files[f.path].find(b"-----BEGIN")


def test_key_with_certificate_and_key_inside_binary(tmp_path: Path) -> None:
    key = _openssl("genrsa", "1024")
    cert = subprocess.run(
        ["openssl", "req", "-new", "-x509", "-key", "/dev/stdin", "-subj", "/CN=router", "-days", "1"],
        input=key,
        check=True,
        capture_output=True,
    ).stdout
    blob = Path("/bin/true").read_bytes() + b"\0pad\0" + key + b"\0"
    found = _run(tmp_path, {"/etc/lighttpd/server.pem": cert + key, "/usr/sbin/webd": blob})
    by_path = {f.path: f for f in found}
    assert set(by_path) == {"/etc/lighttpd/server.pem", "/usr/sbin/webd"}
    inside = by_path["/usr/sbin/webd"]
    assert inside.evidence[0].offset == blob.find(b"-----BEGIN")
    # the same key in two places has the same fingerprint
    assert inside.details["spki_sha256"] == by_path["/etc/lighttpd/server.pem"].details["spki_sha256"]


def test_markers_public_keys_and_certificates_are_not_findings(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    libcrypto_like = b"\0".join(
        [
            b"\x7fELF" + b"\0" * 60,
            b"-----BEGIN RSA PRIVATE KEY-----",
            b"-----END RSA PRIVATE KEY-----",
            b"-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----",
            b"-----BEGIN OPENSSH PRIVATE KEY-----",
        ]
    )
    pub = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    ssh_pub = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    garbage = (
        b"-----BEGIN RSA PRIVATE KEY-----\n"
        + base64.encodebytes(b"\x30\x82not a key at all" * 8)
        + b"-----END RSA PRIVATE KEY-----\n"
    )
    files = {
        "/usr/lib/libcrypto.so.3": libcrypto_like,
        "/etc/ssl/certs/pub.pem": pub,
        "/etc/dropbear/host.pub": ssh_pub,
        "/etc/bad.pem": garbage,
    }
    assert _run(tmp_path, files) == []


def test_der_and_dropbear_keys(tmp_path: Path) -> None:
    if shutil.which("dropbearkey") is None:
        dropbear = None
    else:
        out = tmp_path / "dropbear_rsa_host_key"
        subprocess.run(
            ["dropbearkey", "-t", "rsa", "-s", "1024", "-f", str(out)], check=True, capture_output=True
        )
        dropbear = out.read_bytes()
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    files = {"/etc/key.der": der, "/usr/bin/agent": b"\x7fELF" + b"\0" * 100 + der + b"\0" * 10}
    if dropbear is not None:
        files["/etc/dropbear/dropbear_rsa_host_key"] = dropbear
    found = {f.path: f for f in _run(tmp_path, files)}
    assert set(found) == set(files)
    assert found["/usr/bin/agent"].evidence[0].offset == 104
    assert found["/etc/key.der"].details["ssh_fingerprint"] == _ssh_fp(key.public_key())


def test_dropbear_format_parsed_without_the_tool() -> None:
    # dropbear's host key format: string "ssh-rsa", mpint e, mpint n, mpint d, p, q
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    n = key.private_numbers()

    def s(b: bytes) -> bytes:
        return len(b).to_bytes(4, "big") + b

    def mp(v: int) -> bytes:
        raw = v.to_bytes((v.bit_length() + 8) // 8, "big")
        return s(raw)

    blob = s(b"ssh-rsa") + mp(n.public_numbers.e) + mp(n.public_numbers.n) + mp(n.d) + mp(n.p) + mp(n.q)
    keys = list(private_keys(blob))
    assert [(k.kind, k.bits, k.fmt) for k in keys] == [("RSA", 1024, "dropbear")]
    assert keys[0].ssh_fingerprint == _ssh_fp(key.public_key())


def test_shipped_leaked_key_list() -> None:
    leaked = leaked_keys()
    records = {r["name"]: r for r in leaked.values()}
    assert len(records) >= 9
    for r in records.values():
        assert r["ssh_fingerprint"].startswith("SHA256:") and len(r["spki_sha256"]) == 64
        assert leaked[r["ssh_fingerprint"]] is r and leaked[r["spki_sha256"]] is r


def test_leaked_vendor_key_is_named_and_critical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = _openssl("genrsa", "-traditional", "1024")
    parsed = next(private_keys(key))
    ctx = _ctx(tmp_path / "r", {"/etc/k.pem": key})
    plain = list(CHECK.run(ctx))
    assert plain[0].severity == Severity.HIGH and "leaked" not in plain[0].details
    record = {"name": "acme-router-2014", "user": "root", "ssh_fingerprint": parsed.ssh_fingerprint or ""}
    monkeypatch.setattr(
        "assay.checks.private_key.check.leaked_keys", lambda: {record["ssh_fingerprint"]: record}
    )
    named = list(CHECK.run(ctx))
    assert named[0].severity == Severity.CRITICAL
    assert named[0].details["leaked"]["name"] == "acme-router-2014"
    assert "acme-router-2014" in named[0].title


def _program_with(tmp_path: Path, payload: bytes) -> bytes:
    """A real ELF (the host's /bin/true) with payload appended to its data."""
    return Path("/bin/true").read_bytes() + b"\0" * 16 + payload + b"\0" * 16


def test_published_test_keys_in_a_program_are_test_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # openssl still makes 512-bit keys, as old benchmarks embed them; cryptography refuses to
    bench = [
        serialization.load_pem_private_key(_openssl("genrsa", "-traditional", "512"), None),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
    ]
    ders = [
        k.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        for k in bench
    ]
    published = {}
    for i, der in enumerate(ders):
        parsed = next(private_keys(der))
        published[parsed.ssh_fingerprint or ""] = {"name": f"bench-rsa-{i}"}
    monkeypatch.setattr("assay.checks.private_key.check.published_test_keys", lambda: published)
    files = {
        "/usr/bin/speedtest": _program_with(tmp_path, b"\0\0".join(ders)),
        "/etc/ssl/device.der": ders[1],  # a published key used as the device's own key
    }
    found = {f.path: f for f in _run(tmp_path, files)}
    program = found["/usr/bin/speedtest"]
    assert program.category == "test-data" and program.severity == Severity.INFO
    assert program.details["published_test_keys"] == ["bench-rsa-0", "bench-rsa-1"]
    assert [e.offset for e in program.evidence] == [files["/usr/bin/speedtest"].index(d) for d in ders]
    device = found["/etc/ssl/device.der"]
    assert device.category == "private-key" and device.severity == Severity.CRITICAL
    assert device.details["published_test_key"] == "bench-rsa-1"


def test_unknown_key_in_a_program_is_still_a_private_key(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    found = _run(tmp_path, {"/usr/sbin/cloudd": _program_with(tmp_path, der)})
    assert [(f.category, f.details["bits"], f.details["format"]) for f in found] == [
        ("private-key", 4096, "DER PKCS#8")
    ]


def test_shipped_test_key_list_covers_openssl_speed() -> None:
    from assay.checks.private_key.keys import published_test_keys

    names = {r["name"] for r in published_test_keys().values()}
    assert {f"openssl-speed-rsa{b}" for b in (512, 1024, 2048, 3072, 4096, 7680, 15360)} <= names


def test_der_with_inconsistent_modulus_is_not_a_key() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    der = bytearray(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    der[20] ^= 0x01  # a flipped modulus bit: p*q no longer equals n
    assert list(private_keys(b"\0" * 8 + bytes(der))) == []
