"""`assay keygen`, `assay attest` and `assay verify`: signed, offline-verifiable evidence."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def keygen(
        output: Annotated[Path, typer.Option("-o", "--output", help="PREFIX: writes PREFIX and PREFIX.pub.")],
        key_type: Annotated[str, typer.Option("--type", help="ed25519 or ecdsa-p256.")] = "ed25519",
    ) -> None:
        """Create a signing key pair: PREFIX (PKCS#8 PEM, mode 0600) and PREFIX.pub (SPKI PEM)."""
        from assay.attest import generate, keyid, write_keypair

        key = generate(key_type)
        priv, pub = write_keypair(key, output)
        typer.echo(f"private key: {priv}\npublic key:  {pub}\nkeyid:       {keyid(key.public_key())}")

    @app.command()
    def attest(
        report: Annotated[Path, typer.Argument(help="An Assay JSON report.")],
        key: Annotated[Path, typer.Option("--key", help="PEM private key (from assay keygen).")],
        output: Annotated[
            Path | None,
            typer.Option("-o", "--output", help="Write the DSSE envelope here (default: stdout)."),
        ] = None,
        image: Annotated[
            Path | None, typer.Option("--image", help="The image file; its sha256 must match the report's.")
        ] = None,
    ) -> None:
        """Sign an in-toto statement that binds REPORT to the image it describes (DSSE envelope)."""
        from assay.attest import attest as make
        from assay.attest import load_private

        envelope = json.dumps(make(report, load_private(key), image), indent=2) + "\n"
        if output is None:
            sys.stdout.write(envelope)
        else:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(envelope, encoding="utf-8")
            typer.echo(f"attestation written to {output}", err=True)

    @app.command()
    def verify(
        attestation: Annotated[Path, typer.Argument(help="DSSE envelope written by assay attest.")],
        image: Annotated[Path, typer.Option("--image", help="The firmware image the attestation names.")],
        report: Annotated[Path, typer.Option("--report", help="The JSON report the attestation names.")],
        pubkey: Annotated[Path, typer.Option("--pubkey", help="PEM public key of the signer.")],
    ) -> None:
        """Check the signature, the image digest and the report digest. Exit 0 verified, 7 not."""
        from assay.attest import load_public, verify_attestation

        result = verify_attestation(attestation, image, report, load_public(pubkey), say=typer.echo)
        typer.echo(result.summary())
        typer.echo("verdict: VERIFIED")
