"""keygen, attest and verify: round trips, tampering, wrong keys, and an independent check with openssl."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from assay.attest import PAYLOAD_TYPE, PREDICATE_TYPE, STATEMENT_TYPE, keyid, load_public, pae
from assay.errors import VerificationFailed
from cli_in_process import run_cli as cli


def run(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("assay")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A real squashfs image and the JSON report of a real scan of it."""
    if shutil.which("mksquashfs") is None:
        pytest.skip("mksquashfs is not installed")
    d = tmp_path_factory.mktemp("img")
    root = d / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc/hostname").write_text("router\n")
    image = d / "fw.sqfs"
    subprocess.run(
        ["mksquashfs", str(root), str(image), "-noappend", "-quiet", "-no-progress", "-all-root"],
        check=True,
        capture_output=True,
    )
    from assay.pipeline import scan
    from assay.reports import render

    report = d / "fw.json"
    report.write_text(render(scan(image).to_dict(), "json"))
    return image, report


@pytest.fixture(params=["ed25519", "ecdsa-p256"])
def signed(
    request: pytest.FixtureRequest,
    scanned: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> dict[str, Path]:
    """Copies of image and report, a fresh key pair of each type, and the attestation over them."""
    image = shutil.copy(scanned[0], tmp_path / "fw.sqfs")
    report = shutil.copy(scanned[1], tmp_path / "fw.json")
    key = tmp_path / "keys" / "signer"
    code, out, err = cli(capsys, "keygen", "-o", str(key), "--type", request.param)
    assert code == 0, err
    att = tmp_path / "fw.att.json"
    code, _, err = cli(capsys, "attest", str(report), "--key", str(key), "-o", str(att))
    assert code == 0, err
    return {
        "image": Path(image),
        "report": Path(report),
        "key": key,
        "pub": key.with_name("signer.pub"),
        "att": att,
    }


def verify(capsys: pytest.CaptureFixture[str], s: dict[str, Path], **over: Path) -> tuple[int, str, str]:
    p = {**s, **over}
    return cli(
        capsys,
        "verify",
        str(p["att"]),
        "--image",
        str(p["image"]),
        "--report",
        str(p["report"]),
        "--pubkey",
        str(p["pub"]),
    )


def test_pae_matches_the_dsse_spec_example() -> None:
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )
    assert pae("t", b"") == b"DSSEv1 1 t 0 "


def test_keygen_files(signed: dict[str, Path]) -> None:
    key, pub = signed["key"], signed["pub"]
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")  # PKCS#8
    assert pub.read_text().startswith("-----BEGIN PUBLIC KEY-----")  # SPKI


def test_round_trip_and_statement(signed: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = verify(capsys, signed)
    assert code == 0, err
    assert "signature: ok" in out and "image digest: ok" in out and "report digest: ok" in out
    assert out.rstrip().endswith("verdict: VERIFIED")

    env = json.loads(signed["att"].read_text())
    assert env["payloadType"] == PAYLOAD_TYPE
    assert env["signatures"][0]["keyid"] == keyid(load_public(signed["pub"]))
    stmt = json.loads(base64.b64decode(env["payload"]))
    report = json.loads(signed["report"].read_text())
    assert stmt["_type"] == STATEMENT_TYPE
    assert stmt["predicateType"] == PREDICATE_TYPE
    assert stmt["subject"] == [{"name": "fw.sqfs", "digest": {"sha256": report["image"]["sha256"]}}]
    assert report["image"]["sha256"] == hashlib.sha256(signed["image"].read_bytes()).hexdigest()
    pred = stmt["predicate"]
    assert pred["report"]["digest"]["sha256"] == hashlib.sha256(signed["report"].read_bytes()).hexdigest()
    assert pred["report"]["name"] == "fw.json"
    assert pred["ruleset"] == report["tool"]["ruleset"]
    assert pred["scanner"]["name"] == "assay" and pred["scanner"]["version"] == report["tool"]["version"]
    assert pred["summary"] == report["summary"]
    assert pred["timestamp"].endswith("Z")


def test_signature_checks_out_with_openssl(signed: dict[str, Path], tmp_path: Path) -> None:
    """An independent verifier agrees: the signature is over the DSSE PAE of the payload."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    env = json.loads(signed["att"].read_text())
    (tmp_path / "pae.bin").write_bytes(pae(env["payloadType"], base64.b64decode(env["payload"])))
    (tmp_path / "sig.bin").write_bytes(base64.b64decode(env["signatures"][0]["sig"]))
    pub = str(signed["pub"])
    if isinstance(load_public(signed["pub"]), Ed25519PublicKey):
        cmd = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin"]
        cmd += ["-in", str(tmp_path / "pae.bin"), "-sigfile", str(tmp_path / "sig.bin")]
    else:
        cmd = ["openssl", "dgst", "-sha256", "-verify", pub, "-signature", str(tmp_path / "sig.bin")]
        cmd += [str(tmp_path / "pae.bin")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0 and "Verified" in proc.stdout + proc.stderr, proc.stderr


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_tampered_image(signed: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _flip(signed["image"], signed["image"].stat().st_size // 2)
    code, out, err = verify(capsys, signed)
    assert code == VerificationFailed.exit_code == 7
    assert "image digest mismatch" in err and "signature: ok" in out
    assert err.count("\n") == 1


def test_tampered_report(signed: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _flip(signed["report"], signed["report"].read_bytes().index(b'"findings"') + 2)
    code, _, err = verify(capsys, signed)
    assert code == 7 and "report digest mismatch" in err


def _envelope(s: dict[str, Path]) -> dict:
    return json.loads(s["att"].read_text())


def test_tampered_payload(signed: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    env = _envelope(signed)
    stmt = json.loads(base64.b64decode(env["payload"]))
    stmt["subject"][0]["digest"]["sha256"] = "0" * 64  # the forger's goal: vouch for another image
    env["payload"] = base64.b64encode(json.dumps(stmt).encode()).decode()
    signed["att"].write_text(json.dumps(env))
    code, _, err = verify(capsys, signed)
    assert code == 7 and "signature invalid" in err


def test_one_byte_of_payload(signed: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    env = _envelope(signed)
    raw = bytearray(base64.b64decode(env["payload"]))
    raw[len(raw) // 2] ^= 0x01
    env["payload"] = base64.b64encode(bytes(raw)).decode()
    signed["att"].write_text(json.dumps(env))
    code, _, err = verify(capsys, signed)
    assert code == 7 and "signature invalid" in err


@pytest.mark.parametrize("field", ["payload", "sig"])
def test_one_byte_of_the_envelope_file(
    signed: dict[str, Path], capsys: pytest.CaptureFixture[str], field: str
) -> None:
    """One byte of the file as written, inside the base64 text: still base64, no longer signed."""
    data = bytearray(signed["att"].read_bytes())
    start = data.index(f'"{field}": "'.encode()) + len(field) + 4
    pos = start + 20
    data[pos] = ord("B") if data[pos] != ord("B") else ord("C")
    signed["att"].write_bytes(bytes(data))
    code, _, err = verify(capsys, signed)
    assert code == 7 and "signature invalid" in err and err.count("\n") == 1


def test_tampered_signature(signed: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    env = _envelope(signed)
    sig = bytearray(base64.b64decode(env["signatures"][0]["sig"]))
    sig[-1] ^= 0x01
    env["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    signed["att"].write_text(json.dumps(env))
    code, _, err = verify(capsys, signed)
    assert code == 7 and "signature invalid" in err


def test_tampered_payload_type(signed: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    env = _envelope(signed)
    env["payloadType"] = "application/json"
    signed["att"].write_text(json.dumps(env))
    code, _, err = verify(capsys, signed)
    assert code == 7 and "signature invalid" in err


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[: len(t) // 2],
        lambda t: json.dumps(
            {"payloadType": PAYLOAD_TYPE, "payload": "%%%", "signatures": [{"sig": "AA=="}]}
        ),
        lambda t: json.dumps({"payloadType": PAYLOAD_TYPE, "payload": "e30=", "signatures": []}),
        lambda t: "[]",
    ],
)
def test_malformed_envelope(signed: dict[str, Path], capsys: pytest.CaptureFixture[str], mangle) -> None:
    signed["att"].write_text(mangle(signed["att"].read_text()))
    code, _, err = verify(capsys, signed)
    assert code == 7 and "malformed envelope" in err


def test_wrong_key(signed: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other"
    assert cli(capsys, "keygen", "-o", str(other))[0] == 0
    code, _, err = verify(capsys, signed, pub=other.with_name("other.pub"))
    assert code == 7 and "signature invalid" in err


def test_attest_refuses_an_image_the_report_does_not_describe(
    signed: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.bin"
    other.write_bytes(b"not the image")
    code, _, err = cli(
        capsys, "attest", str(signed["report"]), "--key", str(signed["key"]), "--image", str(other)
    )
    assert code == 3 and "is not the image this report describes" in err


def test_keygen_refuses_to_overwrite(signed: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    before = signed["key"].read_bytes()
    code, _, err = cli(capsys, "keygen", "-o", str(signed["key"]))
    assert code == 3 and "refusing to overwrite" in err
    assert signed["key"].read_bytes() == before


def test_entry_point_exit_code(signed: dict[str, Path]) -> None:
    """The installed command, once: a failed verification exits 7 with one line."""
    _flip(signed["image"], 0)
    p = run(
        "verify",
        str(signed["att"]),
        "--image",
        str(signed["image"]),
        "--report",
        str(signed["report"]),
        "--pubkey",
        str(signed["pub"]),
    )
    assert p.returncode == 7
    assert (
        p.stderr.startswith("assay: verification failed: image digest mismatch") and p.stderr.count("\n") == 1
    )


# ---------------------------------------------------------------- Sigstore keyless (optional, networked)


@pytest.fixture(scope="module")
def ed_signed(scanned: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One Ed25519 attestation, made through the library: these tests are about the options."""
    from assay.attest import attest, generate, write_keypair

    d = tmp_path_factory.mktemp("ed")
    signer = generate("ed25519")
    key, pub = write_keypair(signer, d / "signer")
    att = d / "fw.att.json"
    att.write_text(json.dumps(attest(scanned[1], signer)))
    return {"image": scanned[0], "report": scanned[1], "key": key, "pub": pub, "att": att}


def verify_args(s: dict[str, Path]) -> list[str]:
    return ["verify", str(s["att"]), "--image", str(s["image"]), "--report", str(s["report"])]


def test_sigstore_without_the_package(
    ed_signed: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for mod in ("sigstore", "sigstore.dsse", "sigstore.oidc", "sigstore.sign", "sigstore.models"):
        monkeypatch.setitem(sys.modules, mod, None)  # an import of it now raises ImportError
    code, out, err = cli(
        capsys, "attest", str(ed_signed["report"]), "--sigstore", "--identity-token", "x.y.z"
    )
    assert code == 2 and out == ""
    assert (
        err.startswith("assay: usage: --sigstore needs the optional sigstore package")
        and err.count("\n") == 1
    )


def test_sigstore_needs_an_identity_token(
    ed_signed: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("sigstore")
    monkeypatch.delenv("SIGSTORE_ID_TOKEN", raising=False)
    code, _, err = cli(capsys, "attest", str(ed_signed["report"]), "--sigstore")
    assert code == 2 and "needs an OIDC identity token" in err and err.count("\n") == 1
    monkeypatch.setenv("SIGSTORE_ID_TOKEN", "not-a-jwt")
    code, _, err = cli(capsys, "attest", str(ed_signed["report"]), "--sigstore")
    assert code == 2 and "identity token refused" in err and err.count("\n") == 1


def test_sigstore_bundle_that_is_not_one(
    ed_signed: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A DSSE envelope handed to the Sigstore verifier is refused before any network use."""
    pytest.importorskip("sigstore")
    args = verify_args(ed_signed)
    code, _, err = cli(
        capsys, *args, "--sigstore-identity", "a@example.org", "--sigstore-issuer", "https://issuer.example"
    )
    assert code == 7 and err.startswith("assay: verification failed: malformed Sigstore bundle")


def test_key_and_sigstore_are_exclusive(
    ed_signed: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(
        capsys, "attest", str(ed_signed["report"]), "--key", str(ed_signed["key"]), "--sigstore"
    )
    assert code == 2 and "exactly one of --key KEY or --sigstore" in err
    code, _, err = cli(capsys, "attest", str(ed_signed["report"]))
    assert code == 2 and "exactly one" in err
    args = verify_args(ed_signed)
    code, _, err = cli(
        capsys, *args, "--pubkey", str(ed_signed["pub"]), "--sigstore-identity", "a@example.org"
    )
    assert code == 2 and "exactly one of --pubkey" in err
