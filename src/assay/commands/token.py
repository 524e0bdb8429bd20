"""`assay token create|revoke|list`: API tokens of the assessment centre."""

from __future__ import annotations

import json
from typing import Annotated

import typer

token_app = typer.Typer(
    help="API tokens for the assessment centre (stored hashed in its database).", no_args_is_help=True
)


@token_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="User the token belongs to (created if new).")],
) -> None:
    """Make a token and print it once; only its hash is kept."""
    from assay.store import Store

    store = Store()
    plain, token_id = store.create_token(name)
    store.close()
    typer.echo(plain)
    typer.echo(f"token {token_id} for {name}: keep it now, it cannot be shown again", err=True)


@token_app.command("revoke")
def revoke(
    ref: Annotated[
        str, typer.Argument(help="The token, its prefix, its id, or a user name (all their tokens).")
    ],
) -> None:
    """Revoke tokens; browser sessions made from them end too."""
    from assay.errors import InputError
    from assay.store import Store

    store = Store()
    n = store.revoke_token(ref)
    store.close()
    if n == 0:
        raise InputError(f"no active token matches {ref!r}")
    typer.echo(f"revoked {n} token{'s' if n != 1 else ''}")


@token_app.command("list")
def list_tokens(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Tokens with their prefix, owner, state and last use (never the token itself)."""
    from rich.console import Console
    from rich.table import Table

    from assay.store import Store

    store = Store()
    rows = store.list_tokens()
    store.close()
    if as_json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    table = Table("id", "user", "prefix", "state", "created", "last used")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["user"],
            r["prefix"],
            "revoked" if r["revoked"] else "active",
            r["created_at"].strftime("%Y-%m-%d %H:%M") if r["created_at"] else "",
            r["last_used_at"].strftime("%Y-%m-%d %H:%M") if r["last_used_at"] else "never",
        )
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")
