"""DSSE envelopes (https://github.com/secure-systems-lab/dsse, protocol v1)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from assay.attest.keys import PrivateKey, PublicKey, keyid, sign, verify
from assay.errors import VerificationFailed

PAYLOAD_TYPE = "application/vnd.in-toto+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    """Pre-Authentication Encoding: what is signed, so the type cannot be swapped under the signature."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def seal(payload: bytes, key: PrivateKey, payload_type: str = PAYLOAD_TYPE) -> dict[str, Any]:
    sig = sign(key, pae(payload_type, payload))
    return {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [{"keyid": keyid(key.public_key()), "sig": base64.b64encode(sig).decode("ascii")}],
    }


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise VerificationFailed(f"malformed envelope: {what} is not a string")
    try:
        # DSSE allows standard or URL-safe base64, padded or not.
        s = value.replace("-", "+").replace("_", "/")
        return base64.b64decode(s + "=" * (-len(s) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise VerificationFailed(f"malformed envelope: {what} is not base64") from None


def parse(raw: bytes) -> tuple[str, bytes, list[tuple[str, bytes]]]:
    """(payloadType, payload, [(keyid, sig)]); VerificationFailed 'malformed envelope' otherwise."""
    try:
        env = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise VerificationFailed("malformed envelope: not JSON") from None
    if not isinstance(env, dict):
        raise VerificationFailed("malformed envelope: not a JSON object")
    ptype = env.get("payloadType")
    if not isinstance(ptype, str):
        raise VerificationFailed("malformed envelope: payloadType missing")
    payload = _b64(env.get("payload"), "payload")
    sigs = env.get("signatures")
    if not isinstance(sigs, list) or not sigs:
        raise VerificationFailed("malformed envelope: no signatures")
    out = []
    for s in sigs:
        if not isinstance(s, dict):
            raise VerificationFailed("malformed envelope: a signature is not an object")
        kid = s.get("keyid", "")
        out.append((kid if isinstance(kid, str) else "", _b64(s.get("sig"), "sig")))
    return ptype, payload, out


def open_envelope(raw: bytes, pub: PublicKey) -> tuple[str, bytes, str]:
    """Check that one signature verifies with pub; return (payloadType, payload, keyid)."""
    ptype, payload, sigs = parse(raw)
    message = pae(ptype, payload)
    want = keyid(pub)
    # The keyid is a hint only: a wrong hint must not hide a good signature, nor vouch for a bad one.
    for kid, sig in sorted(sigs, key=lambda s: s[0] != want):
        if verify(pub, sig, message):
            return ptype, payload, kid or want
    raise VerificationFailed("signature invalid: no signature verifies with the given public key")
