"""Rebuild leaked-keys.json from a folder of leaked private keys (NAME.key + NAME.json).

Usage: python build.py /path/to/leaked-ssh-keys > leaked-keys.json
Only fingerprints are written; no key material is shipped.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from assay.checks.private_key.keys import private_keys


def main(folder: Path) -> None:
    keys = []
    for key_file in sorted(folder.glob("*.key")):
        meta_file = key_file.with_suffix(".json")
        meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
        found = list(private_keys(key_file.read_bytes()))
        if not found:
            raise SystemExit(f"{key_file}: no parseable private key")
        k = found[0]
        keys.append(
            {
                "name": key_file.stem,
                "user": meta.get("username", ""),
                "type": k.kind,
                "bits": k.bits,
                "ssh_fingerprint": k.ssh_fingerprint,
                "spki_sha256": k.spki_sha256,
            }
        )
    json.dump({"source": "SOURCE.md", "keys": keys}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
