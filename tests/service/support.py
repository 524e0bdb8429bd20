"""Fixtures shared by the service, store, corpus and browser tests: a real PostgreSQL server,
small squashfs images built with mksquashfs, and free ports."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

XSS = "<script>alert(1)</script>"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_image(dest: Path, files: dict[str, str | bytes], modes: dict[str, int] | None = None) -> Path:
    """A squashfs image of the given files (path -> content), owned by root."""
    root = dest.with_suffix(".root")
    root.mkdir(parents=True)
    for rel, content in files.items():
        p = root / rel.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode() if isinstance(content, str) else content)
        p.chmod((modes or {}).get(rel, 0o644))
    subprocess.run(
        ["mksquashfs", str(root), str(dest), "-all-root", "-noappend", "-no-progress", "-quiet"],
        check=True,
        capture_output=True,
    )
    shutil.rmtree(root)
    return dest


def router_image(
    dest: Path,
    *,
    marker: str = "",
    password_hash: str = "",
    telnet: bool = True,
    packages: dict[str, str] | None = None,
) -> Path:
    """A small router rootfs with findings: telnetd handing out a shell at boot, a password
    compared in a CGI script (an XSS payload, so evidence must render as text), a shadow entry,
    and an opkg database for the SBOM. marker makes images with otherwise equal content differ."""
    pkgs = {"busybox": "1.31.1-1", "dropbear": "2019.78-2"} if packages is None else packages
    status = "".join(
        f"Package: {n}\nVersion: {v}\nStatus: install user installed\n\n" for n, v in pkgs.items()
    )
    return build_image(
        dest,
        {
            "/etc/passwd": "root:x:0:0:root:/root:/bin/sh\nadmin:x:1000:1000::/home/admin:/bin/sh\n",
            "/etc/shadow": f"root:{password_hash}:19000:0:99999:7:::\nadmin:*:19000:0:99999:7:::\n",
            "/etc/init.d/rcS": "#!/bin/sh\nmount -a\n" + ("telnetd -l /bin/sh -p 23\n" if telnet else ""),
            "/www/cgi-bin/login.cgi": f'#!/bin/sh\nif [ "$PASS" = "{XSS}" ]; then echo ok; fi\n',
            "/etc/banner": f"Router firmware {marker}\n",
            "/usr/lib/opkg/status": status,
        },
        modes={"/etc/init.d/rcS": 0o755, "/www/cgi-bin/login.cgi": 0o755, "/etc/shadow": 0o600},
    )


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """initdb + pg_ctl start as the postgres user in a temp dir; yields the server's base URL
    (no database part). Skips when PostgreSQL is not installed."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    bindir = Path(bins[-1]).parent
    tmp = Path(tempfile.mkdtemp(prefix="assay-pg-"))
    data, sock = tmp / "data", tmp / "sock"
    sock.mkdir()
    run_as: list[str] = []
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root.
        pg = pwd.getpwnam("postgres")
        for p in (tmp, sock):
            os.chown(p, pg.pw_uid, pg.pw_gid)
        tmp.chmod(0o700)
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run(
        [
            *run_as,
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(
        [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(tmp / "log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
        )
        shutil.rmtree(tmp, ignore_errors=True)


def create_database(server_url: str) -> str:
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    dsn = server_url.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server_url}/{name}"


# Fixtures shared by the service, store and corpus tests (their conftests import them).
@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'assay.db'}"
    return create_database(request.getfixturevalue("pg_server"))
