"""`assay token` and `assay serve` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from support import free_port

from assay.store import Store

ASSAY = str(Path(sys.executable).parent / "assay")


def run(args: list[str], data: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    return subprocess.run(
        [ASSAY, *args],
        env={**base, "ASSAY_DATA_DIR": str(data), **env},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_token_create_list_revoke(tmp_path: Path) -> None:
    r = run(["token", "create", "--name", "alice"], tmp_path)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert token.startswith("assay_") and "cannot be shown again" in r.stderr
    store = Store(f"sqlite:///{tmp_path / 'assay.db'}")
    assert store.verify_token(token).status == "ok"

    r = run(["token", "list", "--json"], tmp_path)
    rows = json.loads(r.stdout)
    assert [(t["user"], t["revoked"]) for t in rows] == [("alice", False)]
    assert token not in r.stdout  # only the prefix is ever shown
    assert rows[0]["prefix"] in token

    r = run(["token", "revoke", token], tmp_path)
    assert r.returncode == 0 and "revoked 1 token" in r.stdout
    assert store.verify_token(token).status == "revoked"
    r = run(["token", "revoke", "alice"], tmp_path)
    assert r.returncode == 3 and r.stderr.startswith("assay: bad input: no active token matches")
    store.close()


def test_serve_with_unreachable_database_is_exit_8(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none"
    r = run(["serve", "--port", str(free_port())], tmp_path, ASSAY_DATABASE_URL=url)
    assert r.returncode == 8, r.stderr
    assert r.stderr.startswith("assay: database error:") and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
