"""Sigstore keyless signing of the same in-toto statement (optional: needs `sigstore` and the network).

The signer proves an OIDC identity instead of holding a key; Fulcio certifies a short-lived key and
Rekor logs the signature. The result is a Sigstore bundle whose DSSE envelope carries the statement.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from pathlib import Path
from types import ModuleType
from typing import Any

from assay.errors import AssayError, InputError, VerificationFailed

TOKEN_ENV = "SIGSTORE_ID_TOKEN"  # the variable sigstore's own CLI reads


class KeylessUnavailable(AssayError):
    """Keyless signing cannot run here: no sigstore package, no identity token, or no network."""

    exit_code = 2
    kind = "usage"


def _sigstore(name: str) -> ModuleType:
    try:
        return importlib.import_module(f"sigstore.{name}")
    except ImportError:
        raise KeylessUnavailable(
            "--sigstore needs the optional sigstore package (pip install 'assay[sigstore]') and network access"
        ) from None


def _errors() -> tuple[type[Exception], ...]:
    # Whatever sigstore, TUF or the HTTP stack raise when a service cannot be reached or refuses.
    errs: list[type[Exception]] = [OSError, ValueError]
    for mod, name in (("sigstore.errors", "Error"), ("requests", "RequestException")):
        with contextlib.suppress(ImportError, AttributeError):
            errs.append(getattr(importlib.import_module(mod), name))
    return tuple(errs)


def sign_keyless(payload: bytes, identity_token: str | None = None) -> str:
    """A Sigstore bundle (JSON) over the statement bytes. Never opens a browser: the OIDC token
    comes from the argument or $SIGSTORE_ID_TOKEN, as in a CI job."""
    dsse = _sigstore("dsse")
    oidc = _sigstore("oidc")
    sign = _sigstore("sign")
    models = _sigstore("models")
    raw = identity_token or os.environ.get(TOKEN_ENV)
    if not raw:
        raise KeylessUnavailable(
            f"--sigstore needs an OIDC identity token: pass --identity-token or set {TOKEN_ENV}"
        )
    try:
        token = oidc.IdentityToken(raw)
    except _errors() as exc:
        raise KeylessUnavailable(f"identity token refused: {_one_line(exc)}") from None
    try:
        context = sign.SigningContext.from_trust_config(models.ClientTrustConfig.production())
        with context.signer(token, cache=False) as signer:
            bundle = signer.sign_dsse(dsse.Statement(payload))
    except _errors() as exc:
        raise KeylessUnavailable(f"Sigstore signing failed (network needed): {_one_line(exc)}") from None
    return str(bundle.to_json())


def open_bundle(raw: bytes, identity: str, issuer: str) -> tuple[str, bytes, str]:
    """Verify a Sigstore bundle against the expected signer identity and OIDC issuer;
    return (payloadType, payload, signer)."""
    models = _sigstore("models")
    verify = _sigstore("verify")
    try:
        bundle: Any = models.Bundle.from_json(raw)
    except _errors() as exc:
        raise VerificationFailed(f"malformed Sigstore bundle: {_one_line(exc)}") from None
    try:
        verifier = verify.Verifier.production()
    except _errors() as exc:
        raise KeylessUnavailable(
            f"Sigstore trust root unavailable (network needed): {_one_line(exc)}"
        ) from None
    policy = verify.policy.Identity(identity=identity, issuer=issuer)
    try:
        ptype, payload = verifier.verify_dsse(bundle, policy)
    except _errors() as exc:
        raise VerificationFailed(
            f"signature invalid: Sigstore bundle does not verify: {_one_line(exc)}"
        ) from None
    return str(ptype), bytes(payload), f"{identity} ({issuer})"


def read_bundle(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read attestation: {exc.strerror}") from None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] or type(exc).__name__
