"""Builders for the account and permission check tests: real tmp root filesystems, real hashes."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from assay.checks.base import Check, CheckContext, excerpt_of
from assay.index import FileIndex, build_index
from assay.model import Finding
from assay.unpack import index_directory

PASSWD = (
    "root:x:0:0:root:/root:/bin/ash\n"
    "daemon:*:1:1:daemon:/var:/bin/false\n"
    "ftp:*:55:55:ftp:/home/ftp:/bin/false\n"
    "nobody:*:65534:65534:nobody:/var:/bin/false\n"
)
SHADOW = "root:!:19358:0:99999:7:::\ndaemon:*:19358:0:99999:7:::\nftp:*:19358:0:99999:7:::\nnobody:*:19358:0:99999:7:::\n"


def make_root(
    root: Path,
    files: Mapping[str, str | bytes],
    *,
    modes: Mapping[str, int] | None = None,
    symlinks: Mapping[str, str] | None = None,
) -> Path:
    """A root filesystem under root: files (path -> content), chmod modes, symlinks (path -> target)."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        p = root / rel.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode() if isinstance(content, str) else content)
    for rel, target in (symlinks or {}).items():
        p = root / rel.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, p)
    for rel, mode in (modes or {}).items():
        os.chmod(root / rel.lstrip("/"), mode)
    return root


def index_of(root: Path) -> FileIndex:
    return build_index([index_directory(root, "fs0")])


def run_check(check: Check, root: Path, options: Mapping[str, Any] | None = None) -> list[Finding]:
    return list(check.run(CheckContext(index=index_of(root), options=dict(options or {}))))


def openssl_hash(flag: str, password: str, salt: str | None = None) -> str:
    """`openssl passwd` hash: flag is -1, -5, -6 or -apr1; -crypt (gone from OpenSSL 3) uses passlib."""
    if flag == "-crypt":
        from passlib.hash import des_crypt

        return str(des_crypt.hash(password, salt=salt) if salt else des_crypt.hash(password))
    cmd = ["openssl", "passwd", flag]
    if salt:
        cmd += ["-salt", salt]
    # -stdin: a password such as token_urlsafe() output may start with "-" and read as an option.
    out = subprocess.run([*cmd, "-stdin"], input=password + "\n", check=True, capture_output=True, text=True)
    return out.stdout.strip()


def of_category(findings: Iterable[Finding], category: str) -> list[Finding]:
    return [f for f in findings if f.category == category]


def assert_evidence_matches(root: Path, finding: Finding) -> None:
    """Every evidence item names real bytes: offset/length slice the file, sha256 is the file's."""
    import hashlib

    for ev in finding.evidence:
        data = (root / ev.path.lstrip("/")).read_bytes()
        assert ev.sha256 == hashlib.sha256(data).hexdigest()
        if ev.offset is not None and ev.length is not None:
            chunk = data[ev.offset : ev.offset + ev.length]
            assert ev.excerpt == excerpt_of(chunk, 0, len(chunk))
            if ev.line is not None:
                assert data.count(b"\n", 0, ev.offset) + 1 == ev.line
