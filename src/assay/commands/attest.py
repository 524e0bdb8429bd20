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
        key: Annotated[
            Path | None, typer.Option("--key", help="PEM private key (from assay keygen).")
        ] = None,
        output: Annotated[
            Path | None,
            typer.Option("-o", "--output", help="Write the DSSE envelope here (default: stdout)."),
        ] = None,
        image: Annotated[
            Path | None, typer.Option("--image", help="The image file; its sha256 must match the report's.")
        ] = None,
        sigstore: Annotated[
            bool,
            typer.Option(
                "--sigstore",
                help="Sign keyless with Sigstore instead of --key (needs the sigstore package and network); "
                "writes a Sigstore bundle.",
            ),
        ] = False,
        identity_token: Annotated[
            str | None,
            typer.Option(help="OIDC identity token for --sigstore (default: $SIGSTORE_ID_TOKEN)."),
        ] = None,
    ) -> None:
        """Sign an in-toto statement that binds REPORT to the image it describes (DSSE envelope)."""
        from assay.attest import attest as make
        from assay.attest import load_private
        from assay.attest.statement import statement_bytes

        if (key is None) == (not sigstore):
            raise typer.BadParameter("give exactly one of --key KEY or --sigstore")
        if sigstore:
            from assay.attest.keyless import sign_keyless

            text = sign_keyless(statement_bytes(report, image), identity_token) + "\n"
        else:
            assert key is not None
            text = json.dumps(make(report, load_private(key), image), indent=2) + "\n"
        if output is None:
            sys.stdout.write(text)
        else:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
            typer.echo(f"attestation written to {output}", err=True)

    @app.command()
    def verify(
        attestation: Annotated[Path, typer.Argument(help="DSSE envelope written by assay attest.")],
        image: Annotated[Path, typer.Option("--image", help="The firmware image the attestation names.")],
        report: Annotated[Path, typer.Option("--report", help="The JSON report the attestation names.")],
        pubkey: Annotated[Path | None, typer.Option("--pubkey", help="PEM public key of the signer.")] = None,
        sigstore_identity: Annotated[
            str | None,
            typer.Option(help="For a Sigstore bundle: the signer identity (e-mail or URI) to require."),
        ] = None,
        sigstore_issuer: Annotated[
            str | None,
            typer.Option(help="For a Sigstore bundle: the OIDC issuer URL to require."),
        ] = None,
    ) -> None:
        """Check the signature, the image digest and the report digest. Exit 0 verified, 7 not."""
        from assay.attest import load_public, verify_attestation

        keyless = sigstore_identity is not None or sigstore_issuer is not None
        if (pubkey is None) == (not keyless):
            raise typer.BadParameter(
                "give exactly one of --pubkey KEY or --sigstore-identity/--sigstore-issuer"
            )
        if keyless:
            from assay.attest.keyless import open_bundle, read_bundle
            from assay.attest.statement import check_statement

            if not (sigstore_identity and sigstore_issuer):
                raise typer.BadParameter("--sigstore-identity and --sigstore-issuer go together")
            ptype, payload, signer = open_bundle(read_bundle(attestation), sigstore_identity, sigstore_issuer)
            typer.echo(f"signature: ok (Sigstore, {signer})")
            result = check_statement(ptype, payload, signer, image, report, typer.echo)
        else:
            assert pubkey is not None
            result = verify_attestation(attestation, image, report, load_public(pubkey), say=typer.echo)
        typer.echo(result.summary())
        typer.echo("verdict: VERIFIED")
