"""authorized-key: pre-installed keys found where sshd and dropbear look for them."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from assay.checks.authorized_key.check import CHECK
from assay.checks.base import CheckContext
from assay.index import build_index
from assay.model import Finding
from assay.unpack import index_directory

PASSWD = "root:x:0:0:root:/root:/bin/sh\nadmin:x:1000:1000::/home/admin:/bin/sh\nsvc:x:1001:1001::/srv/svc:/bin/false\n"


def _keypair(tmp_path: Path, kind: str, comment: str) -> tuple[str, str]:
    """A public key line from ssh-keygen and ssh-keygen's own SHA256 fingerprint of it."""
    if shutil.which("ssh-keygen") is None:
        pytest.fail("ssh-keygen is not installed; run `make test`")
    key = tmp_path / f"k-{kind}-{comment}"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", comment, "-f", str(key)]
        + (["-b", "1024"] if kind == "rsa" else []),
        check=True,
    )
    line = (
        key.with_suffix(".pub").read_text().strip()
        if key.with_suffix(".pub").exists()
        else Path(str(key) + ".pub").read_text().strip()
    )
    fp = subprocess.run(
        ["ssh-keygen", "-lf", str(key) + ".pub"], check=True, capture_output=True, text=True
    ).stdout.split()[1]
    return line, fp


def _run(root: Path, files: dict[str, str], links: dict[str, str] | None = None) -> list[Finding]:
    for path, content in files.items():
        host = root / path.lstrip("/")
        host.parent.mkdir(parents=True, exist_ok=True)
        host.write_text(content)
    for path, target in (links or {}).items():
        host = root / path.lstrip("/")
        host.parent.mkdir(parents=True, exist_ok=True)
        host.symlink_to(target)
    return list(CHECK.run(CheckContext(index=build_index([index_directory(root, "fs0")]))))


def test_keys_for_root_users_and_dropbear(tmp_path: Path) -> None:
    ed, ed_fp = _keypair(tmp_path, "ed25519", "remote-mgmt")
    rsa, rsa_fp = _keypair(tmp_path, "rsa", "vendor@build")
    files = {
        "/etc/passwd": PASSWD,
        "/root/.ssh/authorized_keys": f"# vendor access\n{ed}\n",
        "/home/admin/.ssh/authorized_keys2": f'no-pty,command="/bin/true" {rsa}\n',
        "/etc/dropbear/authorized_keys": f"{rsa}\n{ed}\n",
    }
    found = {f.path: f for f in _run(tmp_path / "rootfs", files)}
    assert set(found) == {
        "/root/.ssh/authorized_keys",
        "/home/admin/.ssh/authorized_keys2",
        "/etc/dropbear/authorized_keys",
    }
    root = found["/root/.ssh/authorized_keys"]
    assert root.category == "authorized-key" and root.details["user"] == "root"
    assert root.details["keys"] == [
        {"type": "Ed25519", "bits": 256, "comment": "remote-mgmt", "ssh_fingerprint": ed_fp}
    ]
    admin = found["/home/admin/.ssh/authorized_keys2"]
    assert admin.details["user"] == "admin"
    assert admin.details["keys"][0]["ssh_fingerprint"] == rsa_fp
    assert admin.details["keys"][0]["options"].startswith("no-pty")
    assert [k["ssh_fingerprint"] for k in found["/etc/dropbear/authorized_keys"].details["keys"]] == [
        rsa_fp,
        ed_fp,
    ]
    ev = root.evidence[0]
    data = files["/root/.ssh/authorized_keys"].encode()
    assert data[ev.offset : ev.offset + 11] == b"ssh-ed25519"


def test_sshd_config_authorized_keys_file(tmp_path: Path) -> None:
    ed, ed_fp = _keypair(tmp_path, "ed25519", "ops")
    files = {
        "/etc/passwd": PASSWD,
        "/etc/ssh/sshd_config": "Port 22\nAuthorizedKeysFile /etc/ssh/keys/%u.pub\n",
        "/etc/ssh/keys/svc.pub": ed + "\n",
    }
    found = _run(tmp_path / "rootfs", files)
    assert [(f.path, f.details["keys"][0]["ssh_fingerprint"]) for f in found] == [
        ("/etc/ssh/keys/svc.pub", ed_fp)
    ]


def test_empty_comment_only_and_garbage_are_not_findings(tmp_path: Path) -> None:
    bogus = "ssh-rsa " + base64.b64encode(b"\0\0\0\x07ssh-dss" + hashlib.sha256(b"x").digest()).decode()
    files = {
        "/etc/passwd": PASSWD,
        "/root/.ssh/authorized_keys": "",
        "/home/admin/.ssh/authorized_keys": "# add your key here\n\n",
        "/etc/dropbear/authorized_keys": bogus + "\n",
    }
    assert _run(tmp_path / "rootfs", files) == []


def test_symlinked_file_is_followed_inside_the_image(tmp_path: Path) -> None:
    ed, _fp = _keypair(tmp_path, "ed25519", "x")
    files = {"/etc/passwd": PASSWD, "/etc/keys/root": ed + "\n"}
    found = _run(tmp_path / "rootfs", files, links={"/root/.ssh/authorized_keys": "/etc/keys/root"})
    assert [f.path for f in found] == ["/etc/keys/root"]
